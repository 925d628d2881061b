"""Session expiry (absolute and after inactivity) and the two-step verification requirement."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

Handler = Callable[[HttpRequest], HttpResponse]

# What the session remembers (set at login by cartera.accounts.signals).
AUTH_AT = "cartera_auth_at"  # when the user logged in (epoch seconds)
SEEN_AT = "cartera_seen_at"  # the last request, to the minute
SETUP_REQUIRED = "cartera_2fa_setup_required"  # an admin who must set up two-step verification

# Activity is written back at most this often: not every request costs a session write.
SEEN_RESOLUTION = 60


def idle_seconds() -> int:
    return int(getattr(settings, "CARTERA_IDLE_MINUTES", 60)) * 60


class SessionExpiryMiddleware:
    """Log out a session older than SESSION_COOKIE_AGE or idle for CARTERA_IDLE_MINUTES.

    Django's own expiry restarts whenever the session is saved, so on its own it is neither
    absolute nor an idle timeout; both limits are enforced here from the login time and
    the last activity kept in the session.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = int(time.time())
            seen = session.get(SEEN_AT)
            started = session.get(AUTH_AT)
            idle = seen is not None and now - int(seen) > idle_seconds()
            too_old = started is not None and now - int(started) > settings.SESSION_COOKIE_AGE
            if idle or too_old:
                logout(request)
                if idle:
                    message = _(
                        "Your session was closed after %(minutes)s minutes without activity. "
                        "Log in again to continue."
                    ) % {"minutes": idle_seconds() // 60}
                else:
                    message = _("Your session has expired. Log in again to continue.")
                messages.info(request, message)
            elif seen is None or now - int(seen) >= SEEN_RESOLUTION:
                session[SEEN_AT] = now
                session.setdefault(AUTH_AT, now)
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Send an administrator who must use two-step verification to its setup page first."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only the session flag set at login is read here: no query on ordinary requests.
        if request.session.get(SETUP_REQUIRED) and request.user.is_authenticated:
            setup = reverse("accounts:two_factor")
            allowed = {
                setup,
                reverse("accounts:logout"),
                reverse("core:set_language"),
            }
            static = "/" + str(settings.STATIC_URL).lstrip("/")
            if request.path not in allowed and not request.path.startswith(static):
                return redirect(setup)
        return self.get_response(request)
