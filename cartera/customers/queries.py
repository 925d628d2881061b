"""Querysets the views and the API read customers through, each with a fixed query count."""

from __future__ import annotations

from django.db.models import Prefetch

from cartera.accounts.models import User
from cartera.customers.models import Address, Customer, CustomerQuerySet


def customer_list_queryset(user: User, *, detail: bool = False) -> CustomerQuerySet:
    """Visible customers with what a list row shows (everything, for the API)."""
    qs = Customer.objects.visible_to(user).select_related("owner", "group")
    if detail:
        return qs.select_related("fiscal_type", "legal_form", "purchase").prefetch_related(
            "tags", "channels", "addresses", "contacts"
        )
    return qs.prefetch_related(
        "channels", Prefetch("addresses", queryset=Address.objects.order_by("type", "id"))
    )


def customer_detail_queryset(user: User) -> CustomerQuerySet:
    """Visible customers with everything the ficha shows."""
    return (
        Customer.objects.visible_to(user)
        .select_related(
            "owner", "owner__team", "group", "fiscal_type", "legal_form", "lead_source", "sector",
            "created_by", "updated_by", "purchase",
        )
        .prefetch_related("tags", "channels", "addresses", "contacts")
    )  # fmt: skip
