"""Filters the dashboard's links need on the customer list: reason for loss, the competitor a
customer went to, and the revenue segment. Their choices are fixed (no query per list)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy

from cartera.customers.models import CustomerQuerySet, LossReason
from cartera.insights.models import CustomerRevenue, RevenueSegment


class LossReasonFilter:
    """``?loss_reason=competitor``: lost and former customers by the reason recorded."""

    name = "loss_reason"

    def add_fields(self, form: forms.Form) -> None:
        form.fields[self.name] = forms.ChoiceField(
            label=gettext_lazy("Reason for loss"),
            required=False,
            choices=[("", gettext_lazy("Any reason")), *LossReason.choices],
        )

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
        reason = data.get(self.name)
        return queryset.filter(loss_reason=reason) if reason else queryset


class LostToFilter:
    """``?lost_to=<name>``: customers that went to that competitor, whatever the case and the
    spaces (the dashboard merges such spellings too)."""

    name = "lost_to"

    def add_fields(self, form: forms.Form) -> None:
        form.fields[self.name] = forms.CharField(
            label=gettext_lazy("Went to the competitor"), required=False, max_length=200
        )

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
        words = (data.get(self.name) or "").split()
        if not words:
            return queryset
        pattern = r"^\s*" + r"\s+".join(re.escape(word) for word in words) + r"\s*$"
        return queryset.filter(loss_detail__iregex=pattern)


class RevenueSegmentFilter:
    """``?revenue_segment=top``: customers by their share of the last 12 months' sales."""

    name = "revenue_segment"

    def add_fields(self, form: forms.Form) -> None:
        form.fields[self.name] = forms.ChoiceField(
            label=gettext_lazy("Revenue segment"),
            required=False,
            choices=[("", gettext_lazy("Any segment")), *RevenueSegment.choices],
        )

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
        segment = data.get(self.name)
        if not segment:
            return queryset
        if segment == RevenueSegment.NONE:
            bought = CustomerRevenue.objects.filter(customer=OuterRef("pk"))
            return queryset.filter(~Exists(bought))
        ranked = CustomerRevenue.objects.filter(customer=OuterRef("pk"), segment=segment)
        return queryset.filter(Exists(ranked))
