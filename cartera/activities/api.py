"""REST endpoints of the relationship: tasks, notes, stage and status changes, the timeline.

Tasks are never deleted: they are done (``/complete``) or reopened (``/reopen``), and their
whole history stays on the customer's timeline.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.activities import services
from cartera.activities.forms import assignable_users
from cartera.activities.models import Note, Task, TaskQuerySet, TimelineEntry
from cartera.core.models import Company
from cartera.core.pagination import count_up_to
from cartera.core.schema import Date, Id, Text
from cartera.customers.api import (
    MAX_PAGE,
    AddressIn,
    CustomerIn,
    CustomerOut,
    ErrorOut,
    _invalid,
    _resolve,
    serialize,
)
from cartera.customers.models import Contact, Customer
from cartera.customers.queries import customer_detail_queryset
from cartera.customers.validation import CustomerInvalid

router = Router(tags=["activities"])

TaskTypeName = Literal["call", "email", "meeting", "visit", "renewal", "other"]
PriorityName = Literal["low", "normal", "high"]
UnitName = Literal["", "day", "week", "month", "year"]


# --- Schemas ----------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    username: str
    name: str


class TaskIn(Schema):
    type: TaskTypeName
    subject: Text = Field(max_length=200)
    description: Text = Field("", max_length=20_000)
    due_date: Date
    due_time: datetime.time | None = None
    assignee: int | None = Field(None, description="User id; the customer's owner by default")
    contact: int | None = Field(None, description="Id of one of the customer's contacts")
    priority: PriorityName = "normal"
    private: bool = Field(False, description="Seen only by its assignee and its author")
    recurrence_interval: int | None = Field(None, ge=1, le=365)
    recurrence_unit: UnitName = ""


class TaskPatch(Schema):
    type: TaskTypeName | None = None
    subject: Text | None = Field(None, max_length=200)
    description: Text | None = Field(None, max_length=20_000)
    due_date: Date | None = None
    due_time: datetime.time | None = None
    assignee: Id | None = None
    contact: Id | None = None
    priority: PriorityName | None = None
    private: bool | None = None
    recurrence_interval: int | None = Field(None, ge=1, le=365)
    recurrence_unit: UnitName | None = None


class TaskOut(Schema):
    id: int
    url: str
    customer: int
    customer_name: str
    type: str
    subject: str
    description: str
    due_date: datetime.date
    due_time: datetime.time | None
    overdue: bool
    assignee: PersonOut
    contact: int | None
    priority: str
    private: bool
    recurrence_interval: int | None
    recurrence_unit: str
    previous: int | None
    done: bool
    done_at: datetime.datetime | None
    outcome: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TaskPage(Schema):
    count: int = Field(description="Matches, counted up to CARTERA_MAX_COUNT")
    count_is_exact: bool
    page: int
    page_size: int
    results: list[TaskOut]


class CompleteIn(Schema):
    outcome: Text = Field("", max_length=4000)


class SnoozeIn(Schema):
    days: int = Field(1, ge=1, le=365)


class TaskListParams(Schema):
    assignee: Text = Field("me", max_length=20, description="me (default), team, all, or a user id")
    state: Literal["open", "done", "all"] = "open"
    due_before: Date | None = Field(None, description="Due on or before this day")
    due_after: Date | None = Field(None, description="Due on or after this day")
    customer: Id | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=200)


class CustomerTaskParams(Schema):
    state: Literal["open", "done", "all"] = "all"
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=200)


class NoteIn(Schema):
    kind: Literal["note", "call", "email", "meeting"]
    subject: Text = Field("", max_length=200)
    body: Text = Field("", max_length=20_000)
    direction: Literal["", "in", "out"] = ""
    duration_minutes: int | None = Field(None, ge=0, le=24 * 60)
    occurred_at: datetime.datetime | None = Field(None, description="When; now by default")
    contact: Id | None = None


class NoteOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    direction: str
    duration_minutes: int | None
    occurred_at: datetime.datetime
    contact: int | None
    author: str


class NotePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[NoteOut]


class StageIn(Schema):
    stage: Literal["lead", "prospect", "client", "former", "lost"]
    reason: Text = Field("", max_length=5000)
    loss_reason: Text = Field("", max_length=20)
    competitor: Text = Field("", max_length=200)
    version: int | None = Field(None, description="The version read; refused if it changed")
    # What a client needs to be invoiced, when the record lacks it.
    kind: Literal["person", "organization"] | None = None
    fiscal_type: Text | None = Field(None, description="Fiscal type code")
    legal_name: Text | None = Field(None, max_length=200)
    first_name: Text | None = Field(None, max_length=100)
    last_name: Text | None = Field(None, max_length=150)
    legal_form: Text | None = None
    tax_id: Text | None = Field(None, max_length=40)
    tax_country: Text | None = Field(None, max_length=2)
    fiscal_address: AddressIn | None = Field(None, description="Replaces the fiscal address")


class StatusIn(Schema):
    status: Literal["active", "inactive", "suspended"]
    reason: Text = Field("", max_length=5000)
    version: int | None = None


class EntryOut(Schema):
    id: int
    kind: str
    occurred_at: datetime.datetime
    actor: str
    summary: str
    note: int | None
    task: int | None
    attachment: int | None
    change: dict[str, Any] | None
    data: dict[str, Any]


class TimelinePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[EntryOut]


# --- Helpers ----------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.visible_to(request.user).select_related("owner"), pk=pk
    )


def _tasks(request: HttpRequest) -> TaskQuerySet:
    return Task.objects.visible_to(request.user).select_related(
        "customer", "customer__owner", "assignee"
    )


def _task(request: HttpRequest, pk: int) -> Task:
    return get_object_or_404(_tasks(request), pk=pk)


def task_out(task: Task, today: datetime.date) -> dict[str, Any]:
    assignee = task.assignee
    return {
        **{name: getattr(task, name) for name in _TASK_PLAIN},
        "url": reverse("tasks:detail", args=[task.pk]),
        "customer": task.customer_id,
        "customer_name": task.customer.display_name,
        "overdue": task.done_at is None and task.due_date < today,
        "assignee": {"id": assignee.pk, "username": assignee.username, "name": str(assignee)},
        "contact": task.contact_id,
        "previous": task.previous_id,
        "done": task.done_at is not None,
    }


_TASK_PLAIN = (
    "id", "type", "subject", "description", "due_date", "due_time", "priority", "private",
    "recurrence_interval", "recurrence_unit", "done_at", "outcome", "created_at", "updated_at",
)  # fmt: skip


def _today() -> datetime.date:
    return timezone.localdate()


def _task_data(
    payload: TaskIn | TaskPatch, *, user: User, customer: Customer, task: Task | None
) -> dict[str, Any]:
    """The payload in the services' terms: ids become the user and contact they name."""
    data = payload.model_dump(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    for name in _NOT_NULL:
        if name in data and data[name] is None:
            errors[name] = [_("This field cannot be empty.")]
    if "assignee" in data:
        if data["assignee"] is None:
            data["assignee"] = task.assignee if task is not None else customer.owner
        else:
            found = assignable_users(user, customer, task).filter(pk=data["assignee"]).first()
            if found is None:
                errors["assignee"] = [_("You cannot give this task to that user.")]
            data["assignee"] = found
    if data.get("contact") is not None:
        contact = Contact.objects.filter(customer=customer, pk=data["contact"]).first()
        if contact is None:
            errors["contact"] = [_("This contact belongs to another customer.")]
        data["contact"] = contact
    if "description" in data and data["description"] is None:
        data["description"] = ""
    if "recurrence_unit" in data and data["recurrence_unit"] is None:
        data["recurrence_unit"] = ""
    if errors:
        raise services.ActivityInvalid(errors)
    return data


_NOT_NULL = ("type", "subject", "due_date", "priority", "private")


def _page(items: Any, page: int, page_size: int) -> Any:
    start = (page - 1) * page_size
    return items[start : start + page_size]


def _version(request: HttpRequest, version: int | None) -> int | None:
    if version is not None:
        return version
    if_match = request.headers.get("If-Match", "").strip('W/"')
    return int(if_match) if if_match.isdigit() else None


def _customer_out(request: HttpRequest, pk: int, response: HttpResponse) -> dict[str, Any]:
    customer = get_object_or_404(customer_detail_queryset(_user(request)), pk=pk)
    response.headers["ETag"] = f'"{customer.version}"'
    return serialize(customer, Company.load().default_country)


# --- Tasks ------------------------------------------------------------------------------


@router.get(
    "/customers/{int:customer_id}/tasks",
    response={200: TaskPage, 422: ErrorOut},
    summary="A customer's tasks, by due date",
)
def list_customer_tasks(
    request: HttpRequest, customer_id: int, params: Query[CustomerTaskParams]
) -> Any:
    customer = _customer(request, customer_id)
    tasks = _tasks(request).filter(customer=customer)
    if params.state == "open":
        tasks = tasks.open()
    elif params.state == "done":
        tasks = tasks.done()
    tasks = tasks.order_by("due_date", "due_time", "id")
    return _task_page(tasks, params.page, params.page_size)


def _task_page(tasks: TaskQuerySet, page: int, page_size: int) -> dict[str, Any]:
    today = _today()
    rows = [task_out(t, today) for t in _page(tasks, page, page_size)]
    count, exact = count_up_to(tasks, settings.CARTERA_MAX_COUNT)
    return {
        "count": count,
        "count_is_exact": exact,
        "page": page,
        "page_size": page_size,
        "results": rows,
    }


@router.post(
    "/customers/{int:customer_id}/tasks",
    response={201: TaskOut, 422: ErrorOut},
    summary="Create a task for a customer (assigned to its owner by default)",
)
def create_customer_task(request: HttpRequest, customer_id: int, payload: TaskIn) -> Any:
    user = _user(request)
    customer = _customer(request, customer_id)
    try:
        data = _task_data(payload, user=user, customer=customer, task=None)
        task = services.create_task(customer=customer, data=data, by=user)
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, task_out(_task(request, task.pk), _today()))


@router.get(
    "/tasks",
    response={200: TaskPage, 422: ErrorOut},
    summary="Tasks: yours and open by default; filter by assignee, state and due date",
)
def list_tasks(request: HttpRequest, params: Query[TaskListParams]) -> Any:
    user = _user(request)
    tasks = _tasks(request)
    who = params.assignee.strip().lower()
    if who == "me":
        tasks = tasks.filter(assignee=user)
    elif who == "team":
        # without a team, the team is oneself
        team = {"assignee__team_id": user.team_id} if user.team_id else {"assignee": user}
        tasks = tasks.filter(**team)
    elif who.isdigit():
        tasks = tasks.filter(assignee_id=int(who))
    elif who != "all":
        detail = [
            {
                "loc": ["query", "assignee"],
                "msg": _("Use me, team, all or a user id."),
                "type": "invalid",
            }
        ]
        return Status(422, {"detail": detail})
    if params.state == "open":
        tasks = tasks.open()
    elif params.state == "done":
        tasks = tasks.done()
    if params.due_before is not None:
        tasks = tasks.filter(due_date__lte=params.due_before)
    if params.due_after is not None:
        tasks = tasks.filter(due_date__gte=params.due_after)
    if params.customer is not None:
        tasks = tasks.filter(customer_id=params.customer)
    tasks = tasks.order_by("due_date", "due_time", "id")
    return _task_page(tasks, params.page, params.page_size)


@router.get("/tasks/{int:task_id}", response=TaskOut, summary="A task")
def get_task(request: HttpRequest, task_id: int) -> Any:
    return task_out(_task(request, task_id), _today())


@router.patch(
    "/tasks/{int:task_id}",
    response={200: TaskOut, 422: ErrorOut},
    summary="Change a task (only the fields sent)",
)
def patch_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> Any:
    user = _user(request)
    task = _task(request, task_id)
    try:
        data = _task_data(payload, user=user, customer=task.customer, task=task)
        services.update_task(task=task, data=data, by=user)
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return task_out(_task(request, task_id), _today())


@router.post(
    "/tasks/{int:task_id}/complete",
    response={200: TaskOut},
    summary="Mark a task done, with its outcome; a recurring task schedules the next one",
)
def complete_task(request: HttpRequest, task_id: int, payload: CompleteIn) -> Any:
    task = _task(request, task_id)
    services.complete_task(task=task, by=_user(request), outcome=payload.outcome)
    return task_out(_task(request, task_id), _today())


@router.post("/tasks/{int:task_id}/reopen", response={200: TaskOut}, summary="Reopen a done task")
def reopen_task(request: HttpRequest, task_id: int) -> Any:
    task = _task(request, task_id)
    services.reopen_task(task=task, by=_user(request))
    return task_out(_task(request, task_id), _today())


@router.post(
    "/tasks/{int:task_id}/snooze",
    response={200: TaskOut, 422: ErrorOut},
    summary="Put an open task off by some days (from today, or from its date if later)",
)
def snooze_task(request: HttpRequest, task_id: int, payload: SnoozeIn) -> Any:
    task = _task(request, task_id)
    services.snooze_task(task=task, by=_user(request), days=payload.days)
    return task_out(_task(request, task_id), _today())


# --- Notes ------------------------------------------------------------------------------


def _note_out(note: Note) -> dict[str, Any]:
    return {
        **{n: getattr(note, n) for n in ("id", "kind", "subject", "body", "direction")},
        "duration_minutes": note.duration_minutes,
        "occurred_at": note.occurred_at,
        "contact": note.contact_id,
        "author": str(note.author) if note.author else "",
    }


@router.get(
    "/customers/{int:customer_id}/notes",
    response={200: NotePage, 422: ErrorOut},
    summary="Notes, calls, e-mails and meetings logged for a customer, newest first",
)
def list_notes(
    request: HttpRequest,
    customer_id: int,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(25, ge=1, le=200),
) -> Any:
    customer = _customer(request, customer_id)
    notes = Note.objects.filter(customer=customer).select_related("author")
    rows = [_note_out(n) for n in _page(notes.order_by("-occurred_at", "-id"), page, page_size)]
    count, _exact = count_up_to(notes, settings.CARTERA_MAX_COUNT)
    return {"count": count, "page": page, "page_size": page_size, "results": rows}


@router.post(
    "/customers/{int:customer_id}/notes",
    response={201: NoteOut, 422: ErrorOut},
    summary="Write a note, or log a call, e-mail or meeting that happened",
)
def log_note(request: HttpRequest, customer_id: int, payload: NoteIn) -> Any:
    customer = _customer(request, customer_id)
    data = payload.model_dump(exclude_unset=True)
    try:
        if data.get("contact") is not None:
            contact = Contact.objects.filter(customer=customer, pk=data["contact"]).first()
            if contact is None:
                raise services.ActivityInvalid(
                    {"contact": [_("This contact belongs to another customer.")]}
                )
            data["contact"] = contact
        note = services.log_note(customer=customer, data=data, by=_user(request))
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, _note_out(note))


# --- Stage and status -------------------------------------------------------------------


@router.post(
    "/customers/{int:customer_id}/stage",
    response={200: CustomerOut, 409: ErrorOut, 422: ErrorOut},
    summary="Move a customer to another stage, with the reason and what the stage needs",
)
def change_stage(
    request: HttpRequest, customer_id: int, payload: StageIn, response: HttpResponse
) -> Any:
    customer = get_object_or_404(customer_detail_queryset(_user(request)), pk=customer_id)
    fiscal_names = ("kind", "fiscal_type", "legal_name", "first_name", "last_name",
                    "legal_form", "tax_id", "tax_country")  # fmt: skip
    given = payload.model_dump(exclude_unset=True, include=set(fiscal_names))
    try:
        data = _resolve(CustomerIn(**given), tax_country=customer.tax_country) if given else {}
        if payload.fiscal_address is not None:
            address = payload.fiscal_address.model_dump(exclude={"id", "type"})
            data |= services.fiscal_data(customer, address)
        services.change_stage(
            customer=customer,
            to=payload.stage,
            by=_user(request),
            reason=payload.reason,
            loss_reason=payload.loss_reason,
            competitor=payload.competitor,
            data=data,
            version=_version(request, payload.version),
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _customer_out(request, customer_id, response)


@router.post(
    "/customers/{int:customer_id}/status",
    response={200: CustomerOut, 409: ErrorOut, 422: ErrorOut},
    summary="Make a customer active, inactive or suspended, with the reason",
)
def change_status(
    request: HttpRequest, customer_id: int, payload: StatusIn, response: HttpResponse
) -> Any:
    customer = _customer(request, customer_id)
    try:
        services.change_status(
            customer=customer,
            to=payload.status,
            by=_user(request),
            reason=payload.reason,
            version=_version(request, payload.version),
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _customer_out(request, customer_id, response)


# --- Timeline ---------------------------------------------------------------------------


def _entry_out(entry: TimelineEntry) -> dict[str, Any]:
    change = None
    summary = ""
    if entry.change is not None:
        c = entry.change
        change = {
            "field": c.field,
            "from": c.old_value,
            "to": c.new_value,
            "reason": c.reason,
            "loss_reason": c.loss_reason,
            "competitor": c.competitor,
        }
        summary = f"{c.old_value} → {c.new_value}"
    elif entry.note is not None:
        summary = entry.note.subject or entry.note.body[:200]
    elif entry.task is not None:
        summary = entry.task.subject
    elif entry.attachment is not None:
        summary = entry.attachment.name
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "occurred_at": entry.occurred_at,
        "actor": str(entry.actor) if entry.actor else "",
        "summary": summary,
        "note": entry.note_id,
        "task": entry.task_id,
        "attachment": entry.attachment_id,
        "change": change,
        "data": entry.data or {},
    }


@router.get(
    "/customers/{int:customer_id}/timeline",
    response={200: TimelinePage, 422: ErrorOut},
    summary="A customer's story, newest first; kind: notes, calls, lifecycle, tasks, documents…",
)
def customer_timeline(
    request: HttpRequest,
    customer_id: int,
    kind: Literal["", "notes", "calls", "lifecycle", "tasks", "documents", "sales", "data"] = Query(
        ""
    ),
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(25, ge=1, le=200),
) -> Any:
    customer = _customer(request, customer_id)
    entries = services.timeline_for(customer, _user(request), kind=kind)
    rows = [_entry_out(e) for e in _page(entries, page, page_size)]
    count, _exact = count_up_to(entries, settings.CARTERA_MAX_COUNT)
    return {"count": count, "page": page, "page_size": page_size, "results": rows}
