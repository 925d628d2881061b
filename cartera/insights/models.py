"""Snapshots the dashboard reads: small tables of figures, written by the refresh job.

Counting a million customers (or summing five million invoices) on every page view is too
slow, so the refresh job (``cartera.insights.snapshot``) aggregates the register into these
tables and the dashboard sums a few hundred rows. Every row carries the customer's owner and
whether the customer is blocked, which is all ``Customer.objects.visible_to`` looks at, so the
dashboard applies the same visibility to the figures (``cartera.insights.visibility``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Customer

ZERO = Decimal("0")


class RevenueSegment(models.TextChoices):
    """Customers ranked by their net sales of the last twelve months (an ABC analysis)."""

    TOP = "top", _("Top 20%")
    MIDDLE = "middle", _("Next 30%")
    REST = "rest", _("Other 50%")
    NONE = "none", _("No purchases")


class SnapshotRun(models.Model):
    """One refresh of the figures: when, up to which day, and how long it took."""

    computed_at = models.DateTimeField(_("computed at"))
    as_of = models.DateField(_("figures up to"))
    seconds = models.FloatField(_("duration (s)"), default=0)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = _("figures refresh")
        verbose_name_plural = _("figures refreshes")

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M}"


class OwnedFigure(models.Model):
    """What visibility needs: the customer's owner and whether the customer is blocked."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    blocked = models.BooleanField(default=False)

    class Meta:
        abstract = True


class PortfolioCell(OwnedFigure):
    """Current (not archived) customers of one owner with one stage, status, purchase
    activity and revenue segment; ``revenue`` is their net sales of the last 12 months."""

    stage = models.CharField(max_length=12)
    status = models.CharField(max_length=12)
    activity = models.CharField(max_length=16)
    segment = models.CharField(max_length=8)
    customers = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)

    def __str__(self) -> str:
        return f"{self.owner_id} {self.stage} {self.status}: {self.customers}"


class RegionCell(OwnedFigure):
    """Current customers of one owner by the country and region of their fiscal address."""

    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=8, blank=True)
    customers = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.owner_id} {self.country} {self.region}: {self.customers}"


class MonthlySales(OwnedFigure):
    """Invoices (not cancelled) of one month, by the owner of the customer."""

    month = models.DateField()  # the first day of the month
    invoices = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    net = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)

    class Meta:
        indexes = [models.Index(fields=["month"], name="insights_sales_month")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.month:%Y-%m}: {self.net}"


class LossCell(OwnedFigure):
    """Customers that moved to lost or former in one month, by reason and competitor."""

    month = models.DateField()
    new_stage = models.CharField(max_length=12)
    reason = models.CharField(max_length=20, blank=True)
    competitor = models.CharField(max_length=200, blank=True)
    losses = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month"], name="insights_loss_month")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.month:%Y-%m} {self.reason}: {self.losses}"


class PipelineCell(OwnedFigure):
    """Open opportunities in one pipeline stage; weighted by the stage's probability when read."""

    stage = models.ForeignKey(
        "sales.PipelineStage", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    opportunities = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)

    def __str__(self) -> str:
        return f"{self.owner_id} {self.stage_id}: {self.amount}"


class CustomerRevenue(models.Model):
    """Net sales of the last 12 months of each current customer that bought, and its segment
    (``?revenue_segment=`` on the customer list reads it)."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="insights_revenue",
        db_constraint=False,
    )  # fmt: skip
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    invoices = models.PositiveIntegerField(default=0)
    segment = models.CharField(max_length=8, choices=RevenueSegment.choices)

    class Meta:
        indexes = [models.Index(fields=["segment"], name="insights_revenue_segment")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.revenue} ({self.segment})"
