"""Two-step verification with time-based one-time codes (TOTP, RFC 6238).

Codes are 6 digits, a new one every 30 s; one step either side of now is accepted for clock
drift, and a code is accepted once: the step it belongs to is remembered on the user.
"""

from __future__ import annotations

import hmac
import time

import pyotp
import segno
from django.db import models, transaction
from django.utils import timezone

from cartera.accounts.models import User

INTERVAL = 30
DIGITS = 6
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random 160-bit secret in base32, as authenticator apps expect it."""
    return pyotp.random_base32()


def provisioning_uri(*, secret: str, user: User, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.get_username(), issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as SVG markup to put inline in a page (no script, no request)."""
    return segno.make_qr(uri, error="m").svg_inline(scale=5, dark="#111827", light="#ffffff")


def group_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def matching_step(
    secret: str, code: str, *, now: float | None = None, after: int | None = None
) -> int | None:
    """The time step near ``now`` whose code is ``code`` (and later than ``after``), or None."""
    code = "".join(code.split())
    if not secret or len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    step = current_step(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if after is not None and candidate <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def enable_two_factor(*, user: User, secret: str, code: str) -> bool:
    """Turn two-step verification on once the user proves their app has ``secret``."""
    step = matching_step(secret, code)
    if step is None:
        return False
    user.totp_secret = secret
    user.totp_enabled_at = timezone.now()
    user.totp_last_step = step  # the confirming code cannot be used again to log in
    user.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_step"])
    return True


def disable_two_factor(*, user: User) -> None:
    """Turn two-step verification off (by the user, or by an administrator as recovery)."""
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_step"])


def verify_two_factor_code(*, user: User, code: str) -> bool:
    """Whether ``code`` is a valid, not yet used code of the user's app; uses it up if so."""
    if not user.has_two_factor:
        return False
    step = matching_step(user.totp_secret, code, after=user.totp_last_step)
    if step is None:
        return False
    with transaction.atomic():
        # Conditional update: of two requests racing with the same code only one wins.
        won = (
            User.objects.filter(pk=user.pk)
            .filter(models.Q(totp_last_step__isnull=True) | models.Q(totp_last_step__lt=step))
            .update(totp_last_step=step)
        )
    if won:
        user.totp_last_step = step
    return bool(won)
