"""Likely duplicate customers found by the scan, and the merges that resolved them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Customer


class PairStatus(models.TextChoices):
    OPEN = "open", _("To review")
    DISMISSED = "dismissed", _("Not a duplicate")
    MERGED = "merged", _("Merged")


class DuplicatePairQuerySet(models.QuerySet["DuplicatePair"]):
    def reviewable_by(self, user: Any) -> DuplicatePairQuerySet:
        """Pairs a user may act on: both customers editable by them (managers: all of them).

        A pair is shown to nobody else, so that a salesperson does not learn of a customer of
        another team through it.
        """
        editable = Customer.objects.editable_by(user)
        return self.filter(customer_a__in=editable, customer_b__in=editable)

    def open(self) -> DuplicatePairQuerySet:
        return self.filter(status=PairStatus.OPEN)


class DuplicatePair(models.Model):
    """Two customers that look like the same one; ``customer_a`` has the smaller id."""

    customer_a = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    customer_b = models.ForeignKey(
        Customer, verbose_name=_("possible duplicate"), on_delete=models.CASCADE, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    # [{"kind": "tax_id" | "email" | "phone" | "name", "value": ..., "similarity": ...}]
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN
    )
    found_at = models.DateTimeField(_("found at"))
    seen_at = models.DateTimeField(_("last found at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = DuplicatePairQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="duplicate_pair_once"
            ),
            models.CheckConstraint(
                condition=Q(customer_a__lt=F("customer_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-score", "id"], name="duplicate_queue"),
            models.Index(fields=["customer_b"], name="duplicate_customer_b"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_a_id} ~ {self.customer_b_id} ({self.score})"

    def reason_kinds(self) -> list[str]:
        return [r.get("kind", "") for r in self.reasons if isinstance(r, dict)]


class Merge(models.Model):
    """A customer merged into another: the archived record points at the one that survived."""

    survivor = models.ForeignKey(
        Customer, verbose_name=_("kept customer"), on_delete=models.CASCADE, related_name="+"
    )
    merged = models.OneToOneField(
        Customer,
        verbose_name=_("merged customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged at"))
    # Which customer each field was taken from, and how many rows of each kind moved.
    choices = models.JSONField(default=dict, blank=True)
    moved = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["survivor", "-merged_at"], name="merge_survivor")]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"


class Scan(models.Model):
    """One scan of the whole register, however it was started (the nightly job, a manager's
    button, ``cartera duplicates scan``): what it found and when it ended."""

    finished_at = models.DateTimeField(_("finished at"), db_index=True)
    customers = models.PositiveIntegerField(_("customers scanned"))
    found = models.PositiveIntegerField(_("pairs found"))
    created = models.PositiveIntegerField(_("new pairs"))
    updated = models.PositiveIntegerField(_("changed pairs"))
    removed = models.PositiveIntegerField(_("pairs no longer found"))
    seconds = models.FloatField(_("seconds"))

    class Meta:
        ordering = ["-finished_at", "-id"]
        verbose_name = _("duplicate scan")
        verbose_name_plural = _("duplicate scans")

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M}: {self.found}"
