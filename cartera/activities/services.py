"""Use cases of the relationship: stage and status changes, tasks, notes and the timeline.

Views, the API, commands and jobs call these; each is one transaction.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import Role, User
from cartera.activities.models import (
    ChangeField,
    EntryKind,
    LifecycleChange,
    Note,
    NoteKind,
    RecurrenceUnit,
    Task,
    TaskType,
    TimelineEntry,
)
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.core.dates import add_months
from cartera.core.models import Company
from cartera.customers import services as customer_services
from cartera.customers.models import Contact, Customer, LossReason, Stage, Status
from cartera.customers.validation import CustomerInvalid, address_as_dict

# Task types that need an active customer when the company restricts new work to them.
ACTIVE_ONLY_TASK_TYPES = frozenset({TaskType.MEETING, TaskType.VISIT})


class ActivityInvalid(CustomerInvalid):
    """Input to an activity service was refused; ``errors`` maps field paths to messages."""


# --- Timeline -------------------------------------------------------------------


def add_entry(
    customer: Customer | int,
    kind: str,
    *,
    by: Any = None,
    at: datetime.datetime | None = None,
    **refs: Any,
) -> TimelineEntry:
    """Write one line of a customer's timeline (``refs``: note, task, attachment, change, data)."""
    return TimelineEntry.objects.create(
        customer_id=customer if isinstance(customer, int) else customer.pk,
        kind=kind,
        occurred_at=at or timezone.now(),
        actor=by if getattr(by, "pk", None) else None,
        **refs,
    )


def timeline_for(customer: Customer, user: User, *, kind: str = "") -> Any:
    """The entries of one customer the user may see, newest first, with what they point at."""
    entries = TimelineEntry.objects.visible_to(user).filter(customer=customer)
    if kind:
        entries = entries.filter(kind__in=TIMELINE_FILTERS.get(kind, (kind,)))
    return entries.select_related(
        "actor", "note", "note__contact", "task", "task__assignee", "attachment", "change"
    ).order_by("-occurred_at", "-id")


# What each choice of the timeline's filter shows.
TIMELINE_FILTERS: dict[str, tuple[str, ...]] = {
    "notes": (EntryKind.NOTE,),
    "calls": (EntryKind.CALL, EntryKind.EMAIL, EntryKind.MEETING),
    "lifecycle": (EntryKind.STAGE, EntryKind.STATUS),
    "tasks": (EntryKind.TASK_CREATED, EntryKind.TASK_DONE),
    "documents": (EntryKind.DOCUMENT,),
    "sales": (EntryKind.SALE,),
    "data": (EntryKind.IMPORT, EntryKind.MERGE),
}


# --- Stage and status -----------------------------------------------------------


def record_lifecycle(
    customer: Customer, field: str, old: str, new: str, by: User, reason: str
) -> None:
    """Listener of the register: keep every stage and status change with its reason."""
    lost = field == ChangeField.STAGE and new in (Stage.LOST, Stage.FORMER)
    change = LifecycleChange.objects.create(
        customer=customer,
        field=field,
        old_value=old,
        new_value=new,
        reason=reason,
        loss_reason=customer.loss_reason if lost else "",
        competitor=(
            customer.loss_detail if lost and customer.loss_reason == LossReason.COMPETITOR else ""
        ),
        changed_by=by if getattr(by, "pk", None) else None,
        changed_at=timezone.now(),
    )
    kind = EntryKind.STAGE if field == ChangeField.STAGE else EntryKind.STATUS
    add_entry(customer, kind, by=by, at=change.changed_at, change=change)


def stage_requirements(customer: Customer, to: str) -> list[str]:
    """What a customer lacks to move to a stage: field names of the stage form."""
    if to == Stage.CLIENT:
        return customer_services.invoice_missing(customer)
    return []


def change_stage(
    *,
    customer: Customer,
    to: str,
    by: User,
    reason: str = "",
    loss_reason: str = "",
    competitor: str = "",
    data: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> Customer:
    """Move a customer to another stage, asking only for what that stage needs.

    A prospect needs a qualification note (``reason``); a client needs invoiceable
    fiscal data (given in ``data`` when the record lacks it); lost and former need a
    loss reason, and the competitor's name when the customer went to one.
    """
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    customer.refresh_from_db(fields=["stage", "status", "loss_reason", "loss_detail"])
    if to not in Stage.values:
        raise ActivityInvalid({"stage": [_("Select a valid choice.")]})
    if to == customer.stage:
        raise ActivityInvalid({"stage": [_("The customer is already at this stage.")]})
    if to == Stage.PROSPECT and not reason:
        errors["reason"] = [_("Write a qualification note: why is this lead a prospect?")]
    changes: dict[str, Any] = dict(data or {})
    changes["stage"] = to
    if to in (Stage.LOST, Stage.FORMER):
        if not loss_reason:
            errors["loss_reason"] = [_("Say why the customer was lost.")]
        elif loss_reason not in LossReason.values:
            errors["loss_reason"] = [_("Select a valid choice.")]
        elif loss_reason == LossReason.COMPETITOR and not competitor.strip():
            errors["competitor"] = [_("Name the competitor the customer went to.")]
        changes["loss_reason"] = loss_reason
        changes["loss_detail"] = competitor.strip()
    elif customer.loss_reason or customer.loss_detail:
        # Won back: the loss stays in the lifecycle log, not on the record.
        changes["loss_reason"] = ""
        changes["loss_detail"] = ""
    if errors:
        raise ActivityInvalid(errors)
    return customer_services.update_customer(
        customer=customer, data=changes, by=by, version=version, reason=reason
    )


def fiscal_data(customer: Customer, fiscal: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's addresses with the fiscal one replaced, for ``change_stage(data=...)``."""
    addresses = [address_as_dict(a) for a in customer.addresses.all() if a.type != "fiscal"]
    return {"addresses": [{**fiscal, "type": "fiscal"}, *addresses]}


def change_status(
    *, customer: Customer, to: str, by: User, reason: str = "", version: int | None = None
) -> Customer:
    """Make a customer active, inactive or suspended; the reason is kept with the change."""
    customer.refresh_from_db(fields=["stage", "status", "status_reason"])
    if to not in Status.values:
        raise ActivityInvalid({"status": [_("Select a valid choice.")]})
    if to == customer.status:
        raise ActivityInvalid({"status": [_("The customer already has this status.")]})
    reason = (reason or "").strip()
    if to == Status.SUSPENDED and not reason:
        raise ActivityInvalid({"reason": [_("Say why the customer is suspended.")]})
    data = {"status": to, "status_reason": reason[:200] if to != Status.ACTIVE else ""}
    return customer_services.update_customer(
        customer=customer, data=data, by=by, version=version, reason=reason
    )


def may_get_new_work(customer: Customer, company: Company | None = None) -> bool:
    """Rule 4: only active customers get new visits, meetings and sales documents."""
    company = company or Company.load()
    return customer.is_active or not company.restrict_to_active


# --- Tasks ----------------------------------------------------------------------

TASK_FIELDS = (
    "type", "subject", "description", "due_date", "due_time", "contact", "assignee",
    "priority", "private", "recurrence_interval", "recurrence_unit",
)  # fmt: skip


def _writable_customer(customer: Customer, by: User) -> Customer:
    if not by.can_write:
        raise PermissionDenied
    found = Customer.objects.visible_to(by).filter(pk=customer.pk).first()
    if found is None:
        raise PermissionDenied
    return found


def _clean_task(
    data: Mapping[str, Any], *, customer: Customer, task: Task | None
) -> dict[str, Any]:
    """Check a task's fields; raises ActivityInvalid naming each wrong field."""
    errors: dict[str, list[str]] = {}
    fields = {k: v for k, v in data.items() if k in TASK_FIELDS}

    def current(name: str) -> Any:
        if name in fields:
            return fields[name]
        return getattr(task, name, None) if task is not None else None

    if (task is None or "type" in fields) and current("type") not in TaskType.values:
        errors["type"] = [_("Select a valid choice.")]
    if task is None or "subject" in fields:
        fields["subject"] = (current("subject") or "").strip()
        if not fields["subject"]:
            errors["subject"] = [_("This field is required.")]
        elif len(fields["subject"]) > 200:
            errors["subject"] = [_("This text is too long.")]
    if (task is None or "due_date" in fields) and not isinstance(
        current("due_date"), datetime.date
    ):
        errors["due_date"] = [_("Enter a valid date.")]
    due_time = current("due_time")
    if due_time is not None and (
        not isinstance(due_time, datetime.time) or due_time.tzinfo is not None
    ):
        errors["due_time"] = [_("Enter a time of day without a time zone, e.g. 16:30.")]
    contact = current("contact")
    if contact is not None and (
        not isinstance(contact, Contact) or contact.customer_id != customer.pk
    ):
        errors["contact"] = [_("This contact belongs to another customer.")]
    assignee = current("assignee") or customer.owner
    if not isinstance(assignee, User) or not assignee.is_active or assignee.role == Role.READ_ONLY:
        errors["assignee"] = [_("This user cannot be given tasks.")]
    fields["assignee"] = assignee
    interval, unit = current("recurrence_interval"), current("recurrence_unit") or ""
    if interval and unit not in RecurrenceUnit.values:
        errors["recurrence_unit"] = [_("Say how often the task repeats.")]
    elif unit and not interval:
        errors["recurrence_interval"] = [_("Say every how many days, weeks, months or years.")]
    elif interval is not None and not 1 <= int(interval) <= 365:
        errors["recurrence_interval"] = [_("Enter a number between 1 and 365.")]
    fields["recurrence_interval"] = interval or None
    fields["recurrence_unit"] = unit if interval else ""
    if (
        # only a new meeting or visit: editing one already planned is not new work
        (task is None or current("type") != task.type)
        and current("type") in ACTIVE_ONLY_TASK_TYPES
        and not may_get_new_work(customer)
    ):
        errors["type"] = [
            _(
                "Only active customers can be given new meetings and visits "
                "(this one is %(status)s)."
            )
            % {"status": customer.get_status_display().lower()}
        ]
    if errors:
        raise ActivityInvalid(errors)
    return fields


@transaction.atomic
def create_task(*, customer: Customer, data: Mapping[str, Any], by: User) -> Task:
    """A task for a customer; its assignee defaults to the customer's owner."""
    customer = _writable_customer(customer, by)
    fields = _clean_task(data, customer=customer, task=None)
    task = Task.objects.create(customer=customer, created_by=by, **fields)
    add_entry(customer, EntryKind.TASK_CREATED, by=by, at=task.created_at, task=task)
    _audit_task(task, Action.CREATE, by, audit.diff({}, _task_state(task)))
    return task


def _task_state(task: Task) -> dict[str, Any]:
    return audit.snapshot(task, (*TASK_FIELDS, "done_at", "outcome"))


def _audit_task(task: Task, action: str, by: User, changes: dict[str, Any]) -> None:
    audit.record(
        action=action,
        object_type="task",
        object_id=task.pk,
        label=task.subject,
        customer_id=task.customer_id,
        by=by,
        changes=changes,
    )


def may_change_task(task: Task, user: User) -> bool:
    """The assignee, the author and anyone who may edit the customer may change a task."""
    if not user.can_write:
        return False
    if user.pk in (task.assignee_id, task.created_by_id):
        return True
    if task.private:
        return False
    return Customer.objects.editable_by(user).filter(pk=task.customer_id).exists()


def _lock_task(task: Task, by: User) -> Task:
    locked = Task.objects.visible_to(by).select_for_update().filter(pk=task.pk).first()
    if locked is None or not may_change_task(locked, by):
        raise PermissionDenied
    return locked


@transaction.atomic
def update_task(*, task: Task, data: Mapping[str, Any], by: User) -> Task:
    task = _lock_task(task, by)
    before = _task_state(task)
    fields = _clean_task(data, customer=task.customer, task=task)
    for name, value in fields.items():
        setattr(task, name, value)
    task.save()
    if changes := audit.diff(before, _task_state(task)):
        _audit_task(task, Action.UPDATE, by, changes)
    return task


def _series_day(task: Task) -> int:
    """The day of the month a monthly or yearly series was set on.

    A series of the 31st falls on the 28th in February: the next occurrence must go back
    to the 31st, so a date on a month's last day looks back along the series for its day.
    """
    day, previous_id = task.due_date.day, task.previous_id
    last = calendar.monthrange(task.due_date.year, task.due_date.month)[1]
    if day != last:
        return day
    for _step in range(24):  # 31 is the most it can be; two years back is plenty
        if day == 31 or previous_id is None:
            break
        row = Task.objects.filter(pk=previous_id).values_list("due_date", "previous_id").first()
        if row is None:
            break
        day, previous_id = max(day, row[0].day), row[1]
    return day


def _on_day(date: datetime.date, day: int) -> datetime.date:
    return date.replace(day=min(day, calendar.monthrange(date.year, date.month)[1]))


def next_due_date(task: Task, *, after: datetime.date) -> datetime.date:
    """The first date of a recurring task's series later than ``after``."""
    assert task.recurrence_interval and task.recurrence_unit
    step = int(task.recurrence_interval)
    due, n = task.due_date, 0
    if task.recurrence_unit in (RecurrenceUnit.MONTH, RecurrenceUnit.YEAR):
        day = _series_day(task)
    while due <= after:
        n += 1
        if task.recurrence_unit == RecurrenceUnit.DAY:
            due = task.due_date + datetime.timedelta(days=step * n)
        elif task.recurrence_unit == RecurrenceUnit.WEEK:
            due = task.due_date + datetime.timedelta(weeks=step * n)
        elif task.recurrence_unit == RecurrenceUnit.MONTH:
            due = _on_day(add_months(task.due_date, step * n), day)
        else:
            due = _on_day(add_months(task.due_date, 12 * step * n), day)
    return due


@transaction.atomic
def complete_task(*, task: Task, by: User, outcome: str = "") -> Task:
    """Mark a task done with its outcome; a recurring task schedules its next one."""
    task = _lock_task(task, by)
    if task.done_at is not None:
        return task
    task.done_at = timezone.now()
    task.done_by = by
    task.outcome = (outcome or "").strip()
    task.save(update_fields=["done_at", "done_by", "outcome", "updated_at"])
    add_entry(task.customer_id, EntryKind.TASK_DONE, by=by, at=task.done_at, task=task)
    _audit_task(task, Action.UPDATE, by, {"done_at": [None, audit.plain(task.done_at)]})
    if task.is_recurring:
        following = Task.objects.create(
            customer_id=task.customer_id,
            contact_id=task.contact_id,
            type=task.type,
            subject=task.subject,
            description=task.description,
            due_date=next_due_date(task, after=max(task.due_date, timezone.localdate())),
            due_time=task.due_time,
            assignee=task.assignee,
            priority=task.priority,
            private=task.private,
            recurrence_interval=task.recurrence_interval,
            recurrence_unit=task.recurrence_unit,
            previous=task,
            created_by=by,
        )
        add_entry(
            task.customer_id, EntryKind.TASK_CREATED, by=by, at=following.created_at,
            task=following,
        )  # fmt: skip
    return task


@transaction.atomic
def reopen_task(*, task: Task, by: User) -> Task:
    task = _lock_task(task, by)
    if task.done_at is None:
        return task
    before = audit.plain(task.done_at)
    task.done_at = None
    task.done_by = None
    task.save(update_fields=["done_at", "done_by", "updated_at"])
    _audit_task(task, Action.UPDATE, by, {"done_at": [before, None]})
    return task


@transaction.atomic
def snooze_task(*, task: Task, by: User, days: int = 1) -> Task:
    """Put an open task off: its new date is ``days`` after today (or after its date)."""
    task = _lock_task(task, by)
    if not 1 <= days <= 365:
        raise ActivityInvalid({"days": [_("Enter a number between 1 and 365.")]})
    before = audit.plain(task.due_date)
    task.due_date = max(task.due_date, timezone.localdate()) + datetime.timedelta(days=days)
    task.save(update_fields=["due_date", "updated_at"])
    _audit_task(task, Action.UPDATE, by, {"due_date": [before, audit.plain(task.due_date)]})
    return task


def reassign_open_tasks(*, tasks: Any, to: User, by: User) -> int:
    """Hand open tasks over (bulk); each change is in the history."""
    if not by.can_assign_owners:
        raise PermissionDenied
    if not to.is_active or to.role == Role.READ_ONLY:
        raise ActivityInvalid({"assignee": [_("This user cannot be given tasks.")]})
    rows = list(tasks.open().exclude(assignee=to).values_list("pk", "subject", "customer_id"))
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), 500):
        Task.objects.filter(pk__in=ids[start : start + 500]).update(
            assignee=to, updated_at=timezone.now()
        )
    audit.record_all(
        audit.event(
            action=Action.BULK_UPDATE,
            object_type="task",
            object_id=pk,
            label=subject,
            customer_id=customer_id,
            by=by,
            changes={"assignee": [None, str(to)]},
        )
        for pk, subject, customer_id in rows
    )
    return len(rows)


# --- Notes, calls and e-mails ---------------------------------------------------

NOTE_FIELDS = ("kind", "subject", "body", "direction", "duration_minutes", "occurred_at", "contact")
NOTE_MAX_LENGTH = 20_000
_ENTRY_OF_NOTE = {
    NoteKind.NOTE: EntryKind.NOTE,
    NoteKind.CALL: EntryKind.CALL,
    NoteKind.EMAIL: EntryKind.EMAIL,
    NoteKind.MEETING: EntryKind.MEETING,
}


def _clean_note(data: Mapping[str, Any], *, customer: Customer) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    fields = {k: v for k, v in data.items() if k in NOTE_FIELDS}
    if fields.get("kind") not in NoteKind.values:
        errors["kind"] = [_("Select a valid choice.")]
    fields["subject"] = (fields.get("subject") or "").strip()
    fields["body"] = (fields.get("body") or "").strip()
    if len(fields["subject"]) > 200:
        errors["subject"] = [_("This text is too long.")]
    if len(fields["body"]) > NOTE_MAX_LENGTH:
        errors["body"] = [_("This text is too long.")]
    if fields.get("kind") == NoteKind.NOTE and not fields["body"]:
        errors["body"] = [_("Write the note.")]
    elif not fields["body"] and not fields["subject"]:
        errors["body"] = [_("Say what was talked about.")]
    contact = fields.get("contact")
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("This contact belongs to another customer.")]
    when = fields.get("occurred_at") or timezone.now()
    try:  # kept in UTC: PostgreSQL takes no offset beyond ±16 h, nor a year before 1
        when = when.astimezone(datetime.UTC) if timezone.is_aware(when) else when
    except OverflowError:
        when = None
    if when is None or when.year < 1900:
        errors["occurred_at"] = [_("Enter a valid date and time.")]
        when = timezone.now()
    elif when > timezone.now() + datetime.timedelta(minutes=5):
        errors["occurred_at"] = [_("A logged call, e-mail or note cannot be in the future.")]
    fields["occurred_at"] = when
    if errors:
        raise ActivityInvalid(errors)
    return fields


@transaction.atomic
def log_note(*, customer: Customer, data: Mapping[str, Any], by: User) -> Note:
    """Write a note, or log a call, e-mail or meeting that happened."""
    customer = _writable_customer(customer, by)
    fields = _clean_note(data, customer=customer)
    note = Note.objects.create(customer=customer, author=by, **fields)
    add_entry(customer, _ENTRY_OF_NOTE[NoteKind(note.kind)], by=by, at=note.occurred_at, note=note)
    audit.record(
        action=Action.CREATE, object_type="note", object_id=note.pk,
        label=note.subject or note.get_kind_display(), customer_id=customer.pk, by=by,
        changes=audit.diff({}, audit.snapshot(note, ("kind", "subject", "body", "occurred_at"))),
    )  # fmt: skip
    return note
