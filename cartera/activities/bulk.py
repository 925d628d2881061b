"""Bulk actions that need the relationship's data (follow-up lists, status log), and the
hand-over of a leaving person's open tasks. Registered with the register in apps.ready().
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cartera.accounts.models import Role, User
from cartera.activities.follow_up import add_entries, lists_visible_to, not_on
from cartera.activities.models import (
    ChangeField,
    EntryKind,
    FollowUpList,
    LifecycleChange,
    Task,
    TimelineEntry,
)
from cartera.activities.services import reassign_open_tasks
from cartera.audit import services as audit
from cartera.customers import bulk
from cartera.customers.models import CustomerQuerySet, Status


class FollowUpListForm(forms.Form):
    follow_up_list = forms.ModelChoiceField(
        label=gettext_lazy("Follow-up list"), queryset=FollowUpList.objects.none()
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["follow_up_list"]
        field.queryset = lists_visible_to(user).order_by("name", "id")  # type: ignore[attr-defined]


class AddToFollowUpList(bulk.BulkAction):
    name = "add_to_follow_up_list"
    label = gettext_lazy("Add to a follow-up list")

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        return FollowUpListForm(data, user=user)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        return not_on(params["follow_up_list"], customers)

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        chosen: FollowUpList = params["follow_up_list"]
        if not lists_visible_to(by).filter(pk=chosen.pk).exists():
            raise bulk.BulkInvalid({"follow_up_list": [_("Select a valid choice.")]})
        add_entries(follow_up_list=chosen, ids=ids, by=by)
        codes = bulk.rows(ids)
        audit.record_all(
            audit.event(
                action="bulk_update", object_type="follow_up_list", object_id=chosen.pk,
                label=chosen.name, customer_id=pk, by=by,
                changes={"customer": [None, code]},
            )
            for pk, code, _version in codes
        )  # fmt: skip
        return len(codes)

    def describe(self, params: Mapping[str, Any]) -> str:
        return _("Add to the follow-up list “%(name)s”") % {"name": params["follow_up_list"]}


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=Status.choices)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Kept with each change; required to suspend."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["reason"] = (data.get("reason") or "").strip()
        if data.get("status") == Status.SUSPENDED and not data["reason"]:
            self.add_error("reason", _("Say why the customers are suspended."))
        return data


class ChangeStatus(bulk.BulkAction):
    """The rules of ``services.change_status``, applied set-wise with the same log."""

    name = "change_status"
    label = gettext_lazy("Change the status")

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        return StatusForm(data, user=user)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        return customers.exclude(status=params["status"])

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        to, reason = params["status"], (params.get("reason") or "").strip()
        if to not in Status.values:
            raise bulk.BulkInvalid({"status": [_("Select a valid choice.")]})
        if to == Status.SUSPENDED and not reason:
            raise bulk.BulkInvalid({"reason": [_("Say why the customers are suspended.")]})
        status_reason = reason[:200] if to != Status.ACTIVE else ""
        before = bulk.rows(ids, "status", "status_reason")
        bulk.bump(ids, by=by, status=to, status_reason=status_reason)
        now = timezone.now()
        changes = LifecycleChange.objects.bulk_create(
            [
                LifecycleChange(
                    customer_id=pk, field=ChangeField.STATUS, old_value=old, new_value=to,
                    reason=reason, changed_by=by, changed_at=now,
                )
                for pk, _code, _version, old, _old_reason in before
            ],
            batch_size=500,
        )  # fmt: skip
        TimelineEntry.objects.bulk_create(
            [
                TimelineEntry(
                    customer_id=change.customer_id, kind=EntryKind.STATUS, occurred_at=now,
                    actor=by, change=change,
                )
                for change in changes
            ],
            batch_size=500,
        )  # fmt: skip
        audit.record_all(
            bulk.customer_event(
                pk, code, version + 1, by=by,
                changes=audit.diff(
                    {"status": old, "status_reason": old_reason},
                    {"status": to, "status_reason": status_reason},
                ),
            )
            for pk, code, version, old, old_reason in before
        )  # fmt: skip
        return len(before)

    def describe(self, params: Mapping[str, Any]) -> str:
        return _("Change the status to %(status)s") % {
            "status": Status(params["status"]).label.lower()
        }


# --- Hand-over of open tasks ---------------------------------------------------------------


def _takes_tasks(user: User | None) -> bool:
    return user is not None and user.is_active and user.role != Role.READ_ONLY


def task_holders() -> QuerySet[Any]:
    return Task.objects.open().values("assignee_id")


def open_tasks_of(user: User) -> int:
    return Task.objects.open().filter(assignee=user).count()


def hand_over_tasks(*, leaving: User, to: User, by: User, work_to: User | None = None) -> int:
    """Every open task of ``leaving``: to ``work_to``, or to the owner of each task's customer
    (after the customers moved); an owner who cannot take tasks passes them to ``to``.
    """
    tasks = Task.objects.filter(assignee=leaving)
    if work_to is not None:
        return reassign_open_tasks(tasks=tasks, to=work_to, by=by)
    owner_ids = set(tasks.open().values_list("customer__owner_id", flat=True).distinct())
    owners = {u.pk: u for u in User.objects.filter(pk__in=owner_ids)}
    moved = 0
    for owner_id in owner_ids:
        owner = owners.get(owner_id)
        receiver = owner if owner is not None and _takes_tasks(owner) and owner != leaving else to
        moved += reassign_open_tasks(
            tasks=tasks.filter(customer__owner_id=owner_id), to=receiver, by=by
        )
    return moved


def tasks_message(count: int) -> str:
    return ngettext(
        "%(count)s open task handed over.", "%(count)s open tasks handed over.", count
    ) % {"count": count}


def tasks_held(count: int) -> str:
    return ngettext("%(count)s open task", "%(count)s open tasks", count) % {"count": count}


def leaving_check(user: User) -> str:
    """Why a person cannot be deactivated yet: open tasks still assigned to them."""
    count = open_tasks_of(user) if user.pk else 0
    if not count:
        return ""
    return ngettext(
        "This person still has %(count)s open task: hand it over first.",
        "This person still has %(count)s open tasks: hand them over first.",
        count,
    ) % {"count": count}


def register() -> None:
    """Called from the app's ready()."""
    from cartera.accounts.forms import on_leaving

    bulk.register_action(AddToFollowUpList())
    bulk.register_action(ChangeStatus())
    bulk.register_handover_part(
        bulk.HandoverPart(
            name="tasks",
            holders=task_holders,
            count=open_tasks_of,
            hand_over=hand_over_tasks,
            message=tasks_message,
            held=tasks_held,
        )
    )
    on_leaving(leaving_check)
