"""Users with a role, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Sales manager")
    SALESPERSON = "salesperson", _("Salesperson")
    READ_ONLY = "readonly", _("Read only")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """An employee of the company; what they may do follows from their role."""

    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.SALESPERSON
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=[("es", "Español"), ("en", "English")]
    )
    digest_enabled = models.BooleanField(
        _("daily e-mail digest"),
        default=True,
        help_text=_("Each morning, an e-mail with the day's tasks and reminders."),
    )
    # Two-step verification (TOTP, RFC 6238): the shared secret, kept once set up and never
    # shown again; the time step of the last code accepted, so no code is used twice.
    totp_secret = models.CharField(max_length=64, blank=True, editable=False)
    totp_enabled_at = models.DateTimeField(
        _("two-step verification since"), null=True, blank=True, editable=False
    )
    totp_last_step = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def sees_whole_portfolio(self) -> bool:
        """Admins and managers always see every customer."""
        return self.is_admin or self.role == Role.MANAGER

    @property
    def can_write(self) -> bool:
        return self.is_active and (self.is_admin or self.role != Role.READ_ONLY)

    @property
    def can_assign_owners(self) -> bool:
        return self.sees_whole_portfolio

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token for integrations; only a hash of the secret is stored."""

    PREFIX = "cart_"

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(
        cls,
        *,
        user: User,
        name: str,
        scope: str = TokenScope.WRITE,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token and return it with its secret, which is shown only once."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_hash=_hash(key),
            hint=key[: len(cls.PREFIX) + 4],
            scope=scope,
            expires_at=expires_at,
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> ApiToken | None:
        """The usable token for a secret, or None."""
        if not key.startswith(cls.PREFIX):
            return None
        token = cls.objects.usable().select_related("user").filter(key_hash=_hash(key)).first()
        if token is not None:
            now = timezone.now()
            if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
                cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token
