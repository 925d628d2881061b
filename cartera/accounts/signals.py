"""What a fresh login sets up in its session: expiry clocks and the 2FA requirement."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from cartera.accounts.middleware import AUTH_AT, SEEN_AT, SETUP_REQUIRED
from cartera.core.models import Company


@receiver(user_logged_in, dispatch_uid="cartera.accounts.session_started")
def session_started(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[AUTH_AT] = now
    session[SEEN_AT] = now
    must_set_up = (
        getattr(user, "is_admin", False)
        and not getattr(user, "has_two_factor", True)
        and Company.objects.filter(pk=1, require_2fa_for_admins=True).exists()
    )
    if must_set_up:
        session[SETUP_REQUIRED] = True
    else:
        session.pop(SETUP_REQUIRED, None)
