"""The sales pipeline: its stages and the opportunities moving through them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Customer, LeadSource, LossReason, among
from cartera.sales.models.documents import SalesDocument


class PipelineStage(models.Model):
    """A column of the board, with the chance that a deal in it is won."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability %"), default=0, validators=[MaxValueValidator(100)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class OpportunityQuerySet(models.QuerySet["Opportunity"]):
    def visible_to(self, user: Any) -> OpportunityQuerySet:
        return self.filter(among(Customer.objects.visible_to(user)))

    def editable_by(self, user: Any) -> OpportunityQuerySet:
        return self.filter(among(Customer.objects.editable_by(user)))

    def open(self) -> OpportunityQuerySet:
        return self.filter(outcome=Outcome.OPEN)


class Opportunity(models.Model):
    """A potential deal with a customer."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="opportunities",
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    source = models.ForeignKey(
        LeadSource,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    stage = models.ForeignKey(
        PipelineStage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    outcome = models.CharField(
        _("outcome"), max_length=6, choices=Outcome.choices, default=Outcome.OPEN
    )
    won_document = models.ForeignKey(
        SalesDocument,
        verbose_name=_("won with"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    lost_reason = models.CharField(
        _("reason for loss"), max_length=20, choices=LossReason.choices, blank=True
    )
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["expected_close", "id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["outcome", "stage"], name="opportunity_board"),
            models.Index(fields=["customer", "outcome"], name="opportunity_customer"),
            models.Index(fields=["owner", "outcome"], name="opportunity_owner"),
            models.Index(fields=["expected_close"], name="opportunity_close"),
        ]

    def __str__(self) -> str:
        return self.title
