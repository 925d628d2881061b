"""Consent and legal basis per purpose, and data-subject requests (RGPD/LOPDGDD)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Contact, Customer


class Purpose(models.TextChoices):
    COMMERCIAL = "commercial", _("Commercial communications")
    NEWSLETTER = "newsletter", _("Newsletter")
    PROFILING = "profiling", _("Profiling and segmentation")
    SHARING = "sharing", _("Sharing with third parties")


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent")
    CONTRACT = "contract", _("Performance of a contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
    VITAL_INTEREST = "vital_interest", _("Vital interest")
    PUBLIC_TASK = "public_task", _("Public interest")


class ConsentState(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentRecord(models.Model):
    """One statement about a purpose; the latest one per purpose is the current state."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consents"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="consents",
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    state = models.CharField(_("state"), max_length=10, choices=ConsentState.choices)
    recorded_on = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_on", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [
            models.Index(
                fields=["customer", "purpose", "-recorded_on", "-id"], name="consent_latest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.get_state_display()}"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access")
    RECTIFICATION = "rectification", _("Rectification")
    ERASURE = "erasure", _("Erasure")
    OBJECTION = "objection", _("Objection")
    PORTABILITY = "portability", _("Portability")
    RESTRICTION = "restriction", _("Restriction of processing")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")


class DataSubjectRequest(models.Model):
    """A person exercising a data-protection right, with its legal deadline (one month)."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="privacy_requests",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("right exercised"), max_length=20, choices=RequestKind.choices)
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("answer due by"))
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    channel = models.CharField(_("received through"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer.code}"

    @property
    def is_open(self) -> bool:
        return self.status in (RequestStatus.OPEN, RequestStatus.IN_PROGRESS)


class PrivacyPolicy(models.Model):
    """How long blocked data is kept, and when inactive customers are blocked (one row)."""

    block_months = models.PositiveSmallIntegerField(
        _("months blocked data is kept before anonymising"),
        default=36,
        help_text=_("The limitation period of possible liabilities (LOPDGDD art. 32)."),
    )
    inactive_years = models.PositiveSmallIntegerField(
        _("block customers inactive for this many years"),
        default=6,
        help_text=_("0 turns it off. Clients are never blocked automatically."),
    )

    class Meta:
        verbose_name = _("data-protection policy")
        verbose_name_plural = _("data-protection policy")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def load(cls) -> PrivacyPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy
