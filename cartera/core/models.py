"""Company-wide settings and numbering series."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from cartera.core.countries import CURRENCY_CODES


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VisibilityMode(models.TextChoices):
    ALL = "all", _("Salespeople see every customer")
    TEAM = "team", _("Salespeople see only their own and their team's customers")


class Company(models.Model):
    """The business running Cartera: its own fiscal data and its preferences (one row)."""

    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    tax_country = models.CharField(_("tax country"), max_length=2, default="ES")
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    municipality = models.CharField(_("municipality"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=8, blank=True)
    country = models.CharField(_("country"), max_length=2, default="ES")
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    default_country = models.CharField(_("default country"), max_length=2, default="ES")
    default_currency = models.CharField(
        _("default currency"),
        max_length=3,
        default="EUR",
        choices=[(code, code) for code in CURRENCY_CODES],
    )
    visibility_mode = models.CharField(
        _("customer visibility"),
        max_length=8,
        choices=VisibilityMode.choices,
        default=VisibilityMode.ALL,
    )
    review_period_months = models.PositiveSmallIntegerField(
        _("data review period (months)"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    customer_code_prefix = models.CharField(_("customer code prefix"), max_length=10, default="C-")
    customer_code_digits = models.PositiveSmallIntegerField(
        _("customer code digits"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    restrict_to_active = models.BooleanField(
        _("only active customers get new visits, meetings and sales documents"),
        default=True,
        help_text=_("Inactive and suspended customers keep their history but no new work."),
    )
    require_2fa_for_admins = models.BooleanField(
        _("require two-step verification for administrators"),
        default=False,
        help_text=_(
            "Administrators without it are sent to set it up after logging in, before anything "
            "else."
        ),
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")

    def __str__(self) -> str:
        return self.trade_name or self.legal_name or str(_("My company"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> Company:
        """The company row, created with defaults on first use."""
        company, _created = cls.objects.get_or_create(pk=1)
        return company


class Sequence(models.Model):
    """A counter taken from in the taker's transaction: gap-free while each taker writes what it
    took (document numbers); an import's chunk that is taken but never written leaves a gap in
    the customer codes."""

    key = models.CharField(max_length=40, unique=True)
    next_value = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.key}: {self.next_value}"

    @classmethod
    def take(cls, key: str) -> int:
        """Reserve and return the next value of a series inside the caller's transaction."""
        with transaction.atomic():
            cls.objects.get_or_create(key=key)
            row = cls.objects.select_for_update().get(key=key)
            value = row.next_value
            row.next_value = value + 1
            row.save(update_fields=["next_value"])
        return value


class ScheduledRun(models.Model):
    """One period of a periodic job, enqueued once: the unique pair stops a second worker."""

    name = models.CharField(_("job"), max_length=100)
    period = models.CharField(_("period"), max_length=40)
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True)
    task_result_id = models.CharField(_("job run"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [
            models.UniqueConstraint(fields=["name", "period"], name="scheduled_run_once_per_period")
        ]
        indexes = [models.Index(fields=["enqueued_at"], name="scheduled_run_enqueued_idx")]

    def __str__(self) -> str:
        return f"{self.name} {self.period}"
