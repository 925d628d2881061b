"""Follow-up lists: named lists of customers to call back, private or shared.

A list shows a user only the customers they may see; its membership is also a filter of
the customer list (and so of segments and bulk actions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import User
from cartera.activities.models import FollowUpEntry, FollowUpList
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.customers.models import Customer, CustomerQuerySet
from cartera.customers.validation import CustomerInvalid


class FollowUpInvalid(CustomerInvalid):
    """A follow-up list's name was refused."""


def lists_visible_to(user: Any) -> QuerySet[FollowUpList]:
    """A user's own lists and the shared ones."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return FollowUpList.objects.none()
    return FollowUpList.objects.filter(Q(owner=user) | Q(shared=True))


def lists_with_counts(user: User) -> QuerySet[FollowUpList]:
    """The lists a user sees, each with how many of its customers that user may see."""
    visible = Customer.objects.visible_to(user).current()
    return (
        lists_visible_to(user)
        .select_related("owner")
        .annotate(size=Count("customers", filter=Q(customers__in=visible)))
        .order_by("name", "id")
    )


def may_change(follow_up_list: FollowUpList, user: User) -> bool:
    return user.is_active and follow_up_list.owner_id == user.pk


def may_delete(follow_up_list: FollowUpList, user: User) -> bool:
    return may_change(follow_up_list, user) or (follow_up_list.shared and user.sees_whole_portfolio)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FollowUpInvalid({"name": [_("Give the list a name.")]})
    if len(name) > 100:
        raise FollowUpInvalid({"name": [_("This text is too long.")]})
    return name


def _record(item: FollowUpList, action: str, by: User, changes: dict[str, Any]) -> None:
    audit.record(
        action=action, object_type="follow_up_list", object_id=item.pk, label=item.name,
        by=by, changes=changes,
    )  # fmt: skip


@transaction.atomic
def create_list(*, name: str, by: User, shared: bool = False) -> FollowUpList:
    """A new, empty follow-up list."""
    if not by.can_write:
        raise PermissionDenied
    item = FollowUpList.objects.create(name=_clean_name(name), owner=by, shared=shared)
    _record(item, Action.CREATE, by, {"name": [None, item.name], "shared": [None, shared]})
    return item


@transaction.atomic
def update_list(
    *, follow_up_list: FollowUpList, by: User, name: str | None = None, shared: bool | None = None
) -> FollowUpList:
    """Rename a list or change whether it is shared (its owner only)."""
    if not may_change(follow_up_list, by):
        raise PermissionDenied
    before = audit.snapshot(follow_up_list, ("name", "shared"))
    if name is not None:
        follow_up_list.name = _clean_name(name)
    if shared is not None:
        follow_up_list.shared = shared
    follow_up_list.save()
    if changes := audit.diff(before, audit.snapshot(follow_up_list, ("name", "shared"))):
        _record(follow_up_list, Action.UPDATE, by, changes)
    return follow_up_list


@transaction.atomic
def delete_list(*, follow_up_list: FollowUpList, by: User) -> None:
    """Delete a list; its customers are not touched."""
    if not may_delete(follow_up_list, by):
        raise PermissionDenied
    _record(follow_up_list, Action.DELETE, by, {"name": [follow_up_list.name, None]})
    follow_up_list.delete()


def not_on(follow_up_list: FollowUpList, customers: CustomerQuerySet) -> CustomerQuerySet:
    """The customers that are not yet on the list."""
    entries = FollowUpEntry.objects.filter(follow_up_list=follow_up_list, customer=OuterRef("pk"))
    return customers.exclude(Exists(entries))


def add_entries(*, follow_up_list: FollowUpList, ids: Sequence[int], by: User) -> int:
    """Put customers on a list (set-based; those already on it are skipped)."""
    entries = [
        FollowUpEntry(follow_up_list=follow_up_list, customer_id=pk, added_by=by) for pk in ids
    ]
    FollowUpEntry.objects.bulk_create(entries, batch_size=500, ignore_conflicts=True)
    return len(entries)


@transaction.atomic
def remove_customers(*, follow_up_list: FollowUpList, ids: Sequence[int], by: User) -> int:
    """Take customers off a list; only those the user may edit, on a list they may use."""
    if not by.can_write or not lists_visible_to(by).filter(pk=follow_up_list.pk).exists():
        raise PermissionDenied
    editable = Customer.objects.editable_by(by).filter(pk__in=list(ids)).values("pk")
    removed, _detail = FollowUpEntry.objects.filter(
        follow_up_list=follow_up_list, customer__in=editable
    ).delete()
    return removed


# --- The customer list's filter ---------------------------------------------------------


class FollowUpListFilter:
    """``?follow_up_list=<id>``: customers on one of the lists the user may see."""

    name = "follow_up_list"

    def add_fields(self, form: forms.Form) -> None:
        user = getattr(form, "user", None)
        form.fields[self.name] = forms.ModelChoiceField(
            label=gettext_lazy("On the follow-up list"),
            required=False,
            queryset=lists_visible_to(user).order_by("name", "id"),
            empty_label=gettext_lazy("Any or none"),
        )

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
        chosen = data.get(self.name)
        if not chosen:
            return queryset
        entries = FollowUpEntry.objects.filter(follow_up_list=chosen, customer=OuterRef("pk"))
        return queryset.filter(Exists(entries))
