"""Home, language switch, company settings and the generic editor of admin-maintained lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cartera.core.countries import country_choices, currency_choices, region_choices
from cartera.core.forms import set_choices
from cartera.core.models import Company
from cartera.core.permissions import admin_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Everyone starts the day on Mi día: their tasks, reminders and follow-ups."""
    return redirect("activities:today")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language for this browser (and the user's profile)."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
        user = request.user
        if user.is_authenticated and hasattr(user, "language"):
            user.language = language
            user.save(update_fields=["language"])
    return response


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = [
            "legal_name", "trade_name", "tax_country", "tax_id", "street", "postal_code",
            "municipality", "region", "country", "email", "phone", "default_country",
            "default_currency", "visibility_mode", "review_period_months", "restrict_to_active",
            "customer_code_prefix", "customer_code_digits", "require_2fa_for_admins",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("tax_country", "country", "default_country"):
            self.fields[name] = forms.ChoiceField(
                label=self.fields[name].label, choices=country_choices()
            )
        set_choices(self, "default_currency", currency_choices())
        country = self.data.get("country") or self.instance.country or "ES"
        self.fields["region"] = forms.ChoiceField(
            label=self.fields["region"].label,
            required=False,
            choices=[("", "—"), *region_choices(str(country))],
        )


@admin_required
def company_settings(request: HttpRequest) -> HttpResponse:
    company = Company.load()
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Settings saved."))
            return redirect("core:settings")
        return render(
            request, "core/settings.html", {"form": form, "section": "company"}, status=422
        )
    return render(request, "core/settings.html", {"form": form, "section": "company"})


class OptionListEditor:
    """Edit every row of an admin-maintained list on one page (fiscal types, sectors, ...)."""

    def __init__(
        self,
        *,
        model: type[models.Model],
        fields: list[str],
        section: str,
        title: Any,
        widgets: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.section = section
        self.title = title
        self.formset_class = forms.modelformset_factory(
            model, fields=fields, extra=1, can_delete=True, widgets=widgets or {}
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        formset = self.formset_class(
            request.POST or None, queryset=self.model._default_manager.all()
        )
        status = 200
        if request.method == "POST":
            if formset.is_valid():
                try:
                    with transaction.atomic():
                        formset.save()
                except ProtectedError:
                    messages.error(
                        request,
                        _("Some rows are in use and cannot be deleted: deactivate them instead."),
                    )
                    status = 409
                else:
                    messages.success(request, _("Settings saved."))
                    return redirect(request.path)
            else:
                status = 422
        context = {"formset": formset, "section": self.section, "title": self.title}
        return render(request, "core/option_list.html", context, status=status)

    def as_view(self) -> Any:
        return admin_required(self)
