"""The activities API: tasks, notes, stage and status changes, the timeline."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartera.accounts.models import Role, User
from cartera.activities import services
from cartera.activities.models import LifecycleChange, Note, Task
from cartera.core.models import Company
from cartera.customers.models import Customer
from tests.conftest import bearer, make_customer, make_lead, make_user

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


class Api:
    """An integration of one user, with a bearer token, answering in English."""

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.client.cookies["cartera_language"] = "en"
        self.headers = bearer(user)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api{path}", **self.headers)

    def send(self, method: str, path: str, body: dict[str, Any], **headers: str) -> Any:
        return getattr(self.client, method)(
            f"/api{path}",
            json.dumps(body),
            content_type="application/json",
            **self.headers,
            **headers,
        )

    def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.send("post", path, body or {}, **headers)

    def patch(self, path: str, body: dict[str, Any], **headers: str) -> Any:
        return self.send("patch", path, body, **headers)


def _locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in response.json()["detail"]]


def _task(customer: Customer, by: User, **data: Any) -> Task:
    fields = {"type": "call", "subject": "Llamar", "due_date": TODAY} | data
    return services.create_task(customer=customer, data=fields, by=by)


# --- Tasks ------------------------------------------------------------------------------


def test_task_round_trip(owner: User, teammate: User) -> None:
    # given a customer and its owner's integration
    customer = make_customer(owner, contacts=[{"first_name": "Lucía", "last_name": "Gómez"}])
    contact = customer.contacts.get()
    api = Api(owner)

    # when a task is created, read, changed, done and reopened
    created = api.post(
        f"/customers/{customer.pk}/tasks",
        {
            "type": "call",
            "subject": "Renovación",
            "due_date": "2040-01-31",
            "due_time": "10:15",
            "contact": contact.pk,
            "priority": "high",
            "recurrence_interval": 1,
            "recurrence_unit": "month",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    task_id = body["id"]
    assert body["assignee"]["id"] == owner.pk  # the owner by default
    assert (body["contact"], body["due_time"], body["done"]) == (contact.pk, "10:15:00", False)
    assert api.get(f"/tasks/{task_id}").json()["subject"] == "Renovación"

    patched = api.patch(
        f"/tasks/{task_id}", {"subject": "Renovar contrato", "assignee": teammate.pk}
    )
    assert patched.status_code == 200
    assert patched.json()["subject"] == "Renovar contrato"
    assert patched.json()["assignee"]["id"] == teammate.pk
    assert patched.json()["priority"] == "high"  # what was not sent did not change

    done = api.post(f"/tasks/{task_id}/complete", {"outcome": "Renovado 1 año"})
    assert done.status_code == 200
    assert done.json()["done"] is True and done.json()["outcome"] == "Renovado 1 año"
    following = Task.objects.get(previous_id=task_id)
    assert following.due_date == datetime.date(2040, 2, 29)

    reopened = api.post(f"/tasks/{task_id}/reopen")
    assert reopened.status_code == 200 and reopened.json()["done"] is False

    snoozed = api.post(f"/tasks/{task_id}/snooze", {"days": 2})
    assert snoozed.json()["due_date"] == "2040-02-02"

    listed = api.get(f"/customers/{customer.pk}/tasks").json()
    assert {r["id"] for r in listed["results"]} == {task_id, following.pk}


def test_there_is_no_delete_of_tasks(owner: User) -> None:
    task = _task(make_customer(owner), owner)
    response = Api(owner).client.delete(f"/api/tasks/{task.pk}", **bearer(owner))
    assert response.status_code == 405
    assert Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"subject": "Sin tipo", "due_date": "2040-01-01"}, ["body", "type"]),
        ({"type": "call", "subject": "   ", "due_date": "2040-01-01"}, ["body", "subject"]),
        ({"type": "call", "subject": "x", "due_date": "31/01/2040"}, ["body", "due_date"]),
        ({"type": "call", "subject": "x", "due_date": 20400101}, ["body", "due_date"]),
        (
            {"type": "call", "subject": "x", "due_date": "2040-01-01", "recurrence_interval": 2},
            ["body", "recurrence_unit"],
        ),
        (
            {
                "type": "call",
                "subject": "x",
                "due_date": "2040-01-01",
                "recurrence_interval": 0,
                "recurrence_unit": "day",
            },
            ["body", "recurrence_interval"],
        ),
        (
            {"type": "call", "subject": "x", "due_date": "2040-01-01", "contact": 999999},
            ["body", "contact"],
        ),
        (
            {"type": "call", "subject": "x", "due_date": "2040-01-01", "priority": "urgent"},
            ["body", "priority"],
        ),
    ],
)
def test_bad_task_bodies_answer_422_naming_the_field(
    owner: User, body: dict[str, Any], loc: list[str]
) -> None:
    customer = make_customer(owner)
    response = Api(owner).post(f"/customers/{customer.pk}/tasks", body)
    assert response.status_code == 422, response.content
    assert loc in _locs(response)
    assert not Task.objects.exists()


def test_a_salesperson_may_not_give_a_task_to_another_team(
    owner: User, outsider: User, manager: User
) -> None:
    customer = make_customer(owner)
    refused = Api(owner).post(
        f"/customers/{customer.pk}/tasks",
        {"type": "call", "subject": "x", "due_date": "2040-01-01", "assignee": outsider.pk},
    )
    assert refused.status_code == 422 and ["body", "assignee"] in _locs(refused)
    allowed = Api(manager).post(
        f"/customers/{customer.pk}/tasks",
        {"type": "call", "subject": "x", "due_date": "2040-01-01", "assignee": outsider.pk},
    )
    assert allowed.status_code == 201 and allowed.json()["assignee"]["id"] == outsider.pk


def test_patch_refuses_emptying_a_required_field(owner: User) -> None:
    task = _task(make_customer(owner), owner)
    response = Api(owner).patch(f"/tasks/{task.pk}", {"private": None, "subject": None})
    assert response.status_code == 422
    assert {tuple(loc) for loc in _locs(response)} == {("body", "private"), ("body", "subject")}
    task.refresh_from_db()
    assert task.subject == "Llamar"


def test_meetings_need_an_active_customer_when_the_company_says_so(owner: User) -> None:
    company = Company.load()
    company.restrict_to_active = True
    company.save()
    customer = make_customer(owner)
    customer.status = "suspended"
    customer.save()
    response = Api(owner).post(
        f"/customers/{customer.pk}/tasks",
        {"type": "visit", "subject": "Visita", "due_date": "2040-01-01"},
    )
    assert response.status_code == 422 and ["body", "type"] in _locs(response)
    company.restrict_to_active = False
    company.save()
    again = Api(owner).post(
        f"/customers/{customer.pk}/tasks",
        {"type": "visit", "subject": "Visita", "due_date": "2040-01-01"},
    )
    assert again.status_code == 201


def test_listing_tasks_mine_by_default_with_filters(
    owner: User, teammate: User, manager: User
) -> None:
    customer = make_customer(owner)
    mine_late = _task(customer, owner, subject="Mía atrasada", due_date=TODAY - DAY)
    mine_later = _task(customer, owner, subject="Mía futura", due_date=TODAY + 10 * DAY)
    theirs = _task(customer, owner, subject="De Tomás", assignee=teammate)
    done = _task(customer, owner, subject="Hecha")
    services.complete_task(task=done, by=owner)
    api = Api(owner)

    def ids(query: str = "") -> set[int]:
        response = api.get(f"/tasks{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {mine_late.pk, mine_later.pk}
    assert ids("?state=done") == {done.pk}
    assert ids("?state=all") == {mine_late.pk, mine_later.pk, done.pk}
    assert ids(f"?due_before={TODAY.isoformat()}") == {mine_late.pk}
    assert ids(f"?due_after={TODAY.isoformat()}") == {mine_later.pk}
    assert ids("?assignee=team") == {mine_late.pk, mine_later.pk, theirs.pk}
    assert ids(f"?assignee={teammate.pk}") == {theirs.pk}
    overdue = {r["id"]: r["overdue"] for r in api.get("/tasks").json()["results"]}
    assert overdue == {mine_late.pk: True, mine_later.pk: False}
    bad = api.get("/tasks?assignee=nadie")
    assert bad.status_code == 422 and _locs(bad) == [["query", "assignee"]]
    assert api.get("/tasks?due_before=ayer").status_code == 422


def test_the_task_list_has_a_fixed_query_count(owner: User) -> None:
    customers = [make_customer(owner)] + [make_lead(owner, f"Lead {i}") for i in range(3)]
    api = Api(owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/tasks?state=all").status_code == 200
        return len(ctx.captured_queries)

    _task(customers[0], owner)
    queries()  # the token's first use is recorded once
    few = queries()
    for i in range(12):
        _task(customers[i % 4], owner, subject=f"T{i}")
    assert queries() == few


# --- Privacy and access -----------------------------------------------------------------


def test_a_private_task_is_404_for_a_teammate_and_a_manager(
    owner: User, teammate: User, manager: User
) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner, private=True)
    for user in (teammate, manager):
        api = Api(user)
        assert api.get(f"/tasks/{task.pk}").status_code == 404
        assert api.patch(f"/tasks/{task.pk}", {"subject": "Otra"}).status_code == 404
        assert api.post(f"/tasks/{task.pk}/complete").status_code == 404
        listed = api.get(f"/customers/{customer.pk}/tasks?state=all").json()
        assert listed["results"] == [] and listed["count"] == 0
        timeline = api.get(f"/customers/{customer.pk}/timeline?kind=tasks").json()
        assert timeline["results"] == []
    assert Api(owner).get(f"/tasks/{task.pk}").status_code == 200
    task.refresh_from_db()
    assert task.subject == "Llamar" and task.done_at is None


def test_a_reader_reads_but_cannot_write(owner: User) -> None:
    reader = make_user("lectora", role=Role.READ_ONLY, team=owner.team)
    customer = make_customer(owner)
    task = _task(customer, owner)
    api = Api(reader)
    assert api.get(f"/tasks/{task.pk}").status_code == 200
    body = {"type": "call", "subject": "x", "due_date": "2040-01-01"}
    assert api.post(f"/customers/{customer.pk}/tasks", body).status_code == 403
    assert api.post(f"/tasks/{task.pk}/complete").status_code == 403
    assert (
        api.post(f"/customers/{customer.pk}/notes", {"kind": "note", "body": "x"}).status_code
        == 403
    )
    assert api.post(f"/customers/{customer.pk}/status", {"status": "inactive"}).status_code == 403
    assert Task.objects.count() == 1 and not Note.objects.exists()


def test_an_outsider_gets_404_everywhere(
    owner: User, outsider: User, team_visibility: Company
) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner)
    api = Api(outsider)
    for path in (
        f"/customers/{customer.pk}/tasks",
        f"/customers/{customer.pk}/notes",
        f"/customers/{customer.pk}/timeline",
        f"/tasks/{task.pk}",
    ):
        assert api.get(path).status_code == 404, path
    assert (
        api.post(
            f"/customers/{customer.pk}/stage", {"stage": "former", "loss_reason": "not_interested"}
        ).status_code
        == 404
    )
    assert api.post(f"/tasks/{task.pk}/complete").status_code == 404
    assert api.get("/tasks?assignee=all").json()["results"] == []
    customer.refresh_from_db()
    assert customer.stage == "client"


# --- Notes, stage, status, timeline -----------------------------------------------------


def test_logging_a_call_and_reading_it_back(owner: User) -> None:
    customer = make_customer(owner)
    api = Api(owner)
    logged = api.post(
        f"/customers/{customer.pk}/notes",
        {
            "kind": "call",
            "subject": "Llamada de seguimiento",
            "direction": "out",
            "duration_minutes": 12,
        },
    )
    assert logged.status_code == 201, logged.content
    notes = api.get(f"/customers/{customer.pk}/notes").json()
    assert [n["subject"] for n in notes["results"]] == ["Llamada de seguimiento"]
    assert notes["results"][0]["author"] == str(owner)
    empty = api.post(f"/customers/{customer.pk}/notes", {"kind": "note"})
    assert empty.status_code == 422 and ["body", "body"] in _locs(empty)
    future = api.post(
        f"/customers/{customer.pk}/notes",
        {"kind": "note", "body": "x", "occurred_at": "2099-01-01T10:00:00Z"},
    )
    assert future.status_code == 422 and ["body", "occurred_at"] in _locs(future)
    # an offset no database takes, or a year before spreadsheets: refused, never a 500
    for when in ("0222-06-21T22:28:21-22:23", "0001-01-01T00:00:00+10:00", "1850-01-01T10:00Z"):
        odd = api.post(f"/customers/{customer.pk}/notes",
                       {"kind": "note", "body": "x", "occurred_at": when})  # fmt: skip
        assert odd.status_code == 422 and ["body", "occurred_at"] in _locs(odd), when
    # a time written with its own offset is kept as the same instant
    at = "2026-01-05T09:30:00-05:00"
    offset = api.post(f"/customers/{customer.pk}/notes",
                      {"kind": "note", "body": "y", "occurred_at": at})  # fmt: skip
    assert offset.status_code == 201
    assert Note.objects.get(body="y").occurred_at.isoformat() == "2026-01-05T14:30:00+00:00"
    assert Note.objects.count() == 2


def test_stage_change_round_trip_with_version(owner: User) -> None:
    customer = make_lead(owner, "Lead que se pierde")
    api = Api(owner)
    stale = api.post(
        f"/customers/{customer.pk}/stage",
        {"stage": "former", "loss_reason": "not_interested"},
        HTTP_IF_MATCH=f'"{customer.version - 1}"',
    )
    assert stale.status_code == 409
    missing = api.post(
        f"/customers/{customer.pk}/stage", {"stage": "lost", "loss_reason": "competitor"}
    )
    assert missing.status_code == 422 and ["body", "competitor"] in _locs(missing)
    moved = api.post(
        f"/customers/{customer.pk}/stage",
        {
            "stage": "lost",
            "loss_reason": "competitor",
            "competitor": "Rival SA",
            "reason": "Precio",
            "version": customer.version,
        },
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["stage"] == "lost"
    assert moved["ETag"] == f'"{moved.json()["version"]}"'
    change = LifecycleChange.objects.get(customer=customer, new_value="lost")
    assert (change.competitor, change.reason) == ("Rival SA", "Precio")
    timeline = api.get(f"/customers/{customer.pk}/timeline?kind=lifecycle").json()
    assert timeline["results"][0]["change"]["to"] == "lost"


def test_a_lead_becomes_a_client_with_its_fiscal_data(owner: User) -> None:
    lead = make_lead(owner, "Lead con datos")
    api = Api(owner)
    refused = api.post(f"/customers/{lead.pk}/stage", {"stage": "client"})
    assert refused.status_code == 422
    moved = api.post(
        f"/customers/{lead.pk}/stage",
        {
            "stage": "client",
            "kind": "organization",
            "fiscal_type": "sociedad_mercantil",
            "legal_name": "Lead con datos SL",
            "tax_country": "ES",
            "tax_id": "B12345674",
            "fiscal_address": {
                "street": "Calle Mayor",
                "exterior_number": "1",
                "postal_code": "28013",
                "municipality": "Madrid",
                "country": "ES",
            },
        },
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["stage"] == "client" and moved.json()["invoiceable"] is True


def test_status_change(owner: User) -> None:
    customer = make_customer(owner)
    api = Api(owner)
    no_reason = api.post(f"/customers/{customer.pk}/status", {"status": "suspended"})
    assert no_reason.status_code == 422 and ["body", "reason"] in _locs(no_reason)
    bad = api.post(f"/customers/{customer.pk}/status", {"status": "dormido"})
    assert bad.status_code == 422 and ["body", "status"] in _locs(bad)
    done = api.post(f"/customers/{customer.pk}/status", {"status": "suspended", "reason": "Impago"})
    assert done.status_code == 200 and done.json()["status"] == "suspended"
    customer.refresh_from_db()
    assert customer.status_reason == "Impago"


def test_the_timeline_pages_and_filters(owner: User) -> None:
    customer = make_customer(owner)
    for i in range(3):
        services.log_note(customer=customer, data={"kind": "note", "body": f"Nota {i}"}, by=owner)
    _task(customer, owner, subject="Tarea")
    api = Api(owner)
    notes = api.get(f"/customers/{customer.pk}/timeline?kind=notes&page_size=2").json()
    assert notes["count"] == 3 and [e["summary"] for e in notes["results"]] == ["Nota 2", "Nota 1"]
    second = api.get(f"/customers/{customer.pk}/timeline?kind=notes&page_size=2&page=2").json()
    assert [e["summary"] for e in second["results"]] == ["Nota 0"]
    tasks = api.get(f"/customers/{customer.pk}/timeline?kind=tasks").json()
    assert [e["kind"] for e in tasks["results"]] == ["task_created"]
    assert api.get(f"/customers/{customer.pk}/timeline?kind=nada").status_code == 422
