"""User pages: the administrators' user and team pages, and one's own two-step verification."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from cartera.accounts import twofactor
from cartera.accounts.forms import PasswordConfirmForm, TwoFactorCodeForm, UserForm
from cartera.accounts.middleware import SETUP_REQUIRED
from cartera.accounts.models import Team, User
from cartera.core.models import Company
from cartera.core.permissions import admin_required
from cartera.core.views import OptionListEditor

SETUP_SECRET = "cartera_2fa_setup_secret"  # the secret being set up, until confirmed


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.select_related("team").order_by("-is_active", "username")
    return render(request, "accounts/user_list.html", {"users": users, "section": "users"})


@admin_required
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=pk) if pk else User()
    form = UserForm(request.POST or None, instance=user)
    if request.method == "POST":
        if form.is_valid():
            saved = form.save()
            messages.success(request, _("User %(name)s saved.") % {"name": saved})
            return redirect("accounts:users")
        status = 422
    else:
        status = 200
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "edited": user, "section": "users"},
        status=status,
    )


@admin_required
@require_POST
def user_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Recovery: an administrator turns off the two-step verification of someone who lost it."""
    user = get_object_or_404(User, pk=pk)
    twofactor.disable_two_factor(user=user)
    messages.success(
        request,
        _(
            "Two-step verification of %(name)s is off. They can log in with their password "
            "and set it up again."
        )
        % {"name": user},
    )
    return redirect("accounts:user_edit", pk=user.pk)


teams = OptionListEditor(
    model=Team, fields=["name"], section="teams", title=gettext_lazy("Teams")
).as_view()


def _required_for(user: User) -> bool:
    return user.is_admin and Company.load().require_2fa_for_admins


def _issuer() -> str:
    company = Company.load()
    name = (company.trade_name or company.legal_name).replace(":", " ").strip()
    return f"Cartera {name}" if name else "Cartera"


@login_required
@never_cache
@sensitive_post_parameters("password", "code")
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn one's own two-step verification on (QR code, then a code) or off (password)."""
    user = request.user
    assert isinstance(user, User)
    required = _required_for(user)
    if user.has_two_factor:
        form: PasswordConfirmForm | TwoFactorCodeForm = PasswordConfirmForm(
            request.POST or None, user=user
        )
        status = 200
        if request.method == "POST":
            if required:
                messages.error(
                    request,
                    _("Your company requires two-step verification for administrators."),
                )
                return redirect("accounts:two_factor")
            if form.is_valid():
                twofactor.disable_two_factor(user=user)
                messages.success(request, _("Two-step verification is off."))
                return redirect("accounts:two_factor")
            status = 422
        return render(
            request,
            "accounts/two_factor.html",
            {"enabled": True, "form": form, "required": required},
            status=status,
        )

    secret = request.session.get(SETUP_SECRET) or twofactor.new_secret()
    request.session[SETUP_SECRET] = secret
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and twofactor.enable_two_factor(
            user=user, secret=secret, code=form.cleaned_data["code"]
        ):
            request.session.pop(SETUP_SECRET, None)
            request.session.pop(SETUP_REQUIRED, None)
            messages.success(
                request,
                _("Two-step verification is on: from now on you will be asked for a code."),
            )
            return redirect("accounts:two_factor")
        if form.is_valid():
            form.add_error(
                "code",
                _("This code is not valid. Check your phone's clock and enter the current one."),
            )
        status = 422
    uri = twofactor.provisioning_uri(secret=secret, user=user, issuer=_issuer())
    context: dict[str, object] = {
        "enabled": False,
        "form": form,
        "required": required,
        "must_set_up": bool(request.session.get(SETUP_REQUIRED)),
        "qr_svg": twofactor.qr_svg(uri),
        "secret": twofactor.group_secret(secret),
    }
    return render(request, "accounts/two_factor.html", context, status=status)
