"""Editable lists and classifications an administrator maintains."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    PERSON = "person", _("Individual")
    ORGANIZATION = "organization", _("Organisation")


class EditableOption(models.Model):
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class FiscalType(EditableOption):
    """Fiscal nature of a customer (particular, autónomo, sociedad mercantil, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, blank=True)

    class Meta(EditableOption.Meta):
        verbose_name = _("fiscal type")
        verbose_name_plural = _("fiscal types")


class LegalForm(EditableOption):
    """SL, SA, SA de CV, SAS, SpA, ...: the legal form of an organisation, per country."""

    code = models.CharField(_("code"), max_length=20)
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta(EditableOption.Meta):
        ordering = ["country", "position", "code"]
        verbose_name = _("legal form")
        verbose_name_plural = _("legal forms")
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="legal_form_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class LeadSource(EditableOption):
    class Meta(EditableOption.Meta):
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")


class Sector(EditableOption):
    class Meta(EditableOption.Meta):
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    PROMISSORY_NOTE = "promissory_note", _("Promissory note")
    OTHER = "other", _("Other")


class CustomerGroup(models.Model):
    """A classification that carries commercial rules for its customers."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, blank=True
    )
    pre_inactive_days = models.PositiveSmallIntegerField(
        _("days until pre-inactive"), null=True, blank=True
    )
    inactive_days = models.PositiveSmallIntegerField(
        _("days until inactive"), null=True, blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")

    def __str__(self) -> str:
        return self.name


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes/no")


class CustomField(models.Model):
    """An extra customer field defined by an administrator."""

    label = models.CharField(_("label"), max_length=100)
    key = models.SlugField(_("key"), max_length=50, unique=True)
    field_type = models.CharField(
        _("type"), max_length=10, choices=CustomFieldType.choices, default=CustomFieldType.TEXT
    )
    choices = models.TextField(_("choices"), blank=True, help_text=_("One choice per line."))
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]
