"""Logging in: password, then the two-step verification code; throttling and lockout pages.

Repeated failures lock the username on that address (django-axes, settings ``AXES_*``);
every login request also counts against a per-address rate (``CARTERA_LOGIN_RATE``).
"""

from __future__ import annotations

import math
import time
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from cartera.accounts.forms import TwoFactorCodeForm
from cartera.accounts.models import User
from cartera.accounts.twofactor import verify_two_factor_code
from cartera.core import ratelimit

PENDING = "cartera_2fa_pending"  # a user who gave the password and still owes the code
PENDING_SECONDS = 5 * 60
MAX_CODE_FAILURES = 5


def throttled_response(request: HttpRequest) -> HttpResponse | None:
    """429 when this address has sent too many login requests lately, else None."""
    rate = ratelimit.Rate.parse(getattr(settings, "CARTERA_LOGIN_RATE", "30/minute"))
    verdict = ratelimit.hit(f"login:ip:{ratelimit.client_ip(request)}", rate)
    if verdict.allowed:
        return None
    response = render(
        request,
        "accounts/locked.html",
        {"reason": "throttled", "seconds": verdict.retry_after},
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page django-axes answers with while a username is locked on this address."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    response = render(
        request,
        "accounts/locked.html",
        {"reason": "locked", "minutes": math.ceil(seconds / 60) if seconds else None},
        status=int(getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)),
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


class LoginView(auth_views.LoginView):
    """Django's login, rate-limited per address, and in two steps for users with 2FA."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return throttled_response(request) or super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        user: User = form.get_user()
        if not user.has_two_factor:
            return super().form_valid(form)
        # Not logged in yet: only a note that the password was right, for a few minutes.
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
            "since": int(time.time()),
            "failures": 0,
            "next": self.get_success_url(),
        }
        return redirect("accounts:login_code")


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The user half-way through a two-step login, while that state is fresh."""
    state = request.session.get(PENDING)
    if not isinstance(state, dict):
        return None
    if time.time() - float(state.get("since", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user = User.objects.filter(pk=int(state.get("user") or 0), is_active=True).first()
    if user is None or not user.has_two_factor:
        request.session.pop(PENDING, None)
        return None
    return user, state


def _locked(request: HttpRequest, user: User) -> bool:
    if not settings.AXES_ENABLED:
        return False
    return not AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """Second step of the login: the code of the user's authenticator app."""
    pending = _pending(request)
    if pending is None:
        messages.info(request, _("Log in with your username and password."))
        return redirect("accounts:login")
    user, state = pending
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST":
        if throttled := throttled_response(request):
            return throttled
        if _locked(request, user):
            request.session.pop(PENDING, None)
            return lockout_response(request)
        if form.is_valid():
            if verify_two_factor_code(user=user, code=form.cleaned_data["code"]):
                request.session.pop(PENDING, None)
                auth_login(request, user, backend=state["backend"])
                target = str(state.get("next") or settings.LOGIN_REDIRECT_URL)
                if not url_has_allowed_host_and_scheme(
                    target, {request.get_host()}, require_https=request.is_secure()
                ):
                    target = settings.LOGIN_REDIRECT_URL
                return redirect(target)
            state["failures"] = int(state.get("failures", 0)) + 1
            request.session[PENDING] = state
            if state["failures"] >= MAX_CODE_FAILURES:
                # Back to the password; the lost round counts as one failed login towards
                # the lockout, so codes cannot be guessed by logging in again and again.
                request.session.pop(PENDING, None)
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": user.get_username()},
                    request=request,
                )
                if getattr(request, "axes_locked_out", False):
                    return lockout_response(request)
                messages.error(request, _("Too many wrong codes. Log in again."))
                return redirect("accounts:login")
            form.add_error(
                "code",
                _("This code is not valid or has already been used. Enter the current one."),
            )
    return render(request, "accounts/login_code.html", {"form": form})
