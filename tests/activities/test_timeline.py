"""Notes, logged calls and the timeline on the ficha; Mi día."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartera.accounts.models import User
from cartera.activities import services
from cartera.activities.models import EntryKind, Note, Reminder, Task, TimelineEntry
from cartera.customers.models import Customer
from cartera.customers.validation import CustomerInvalid
from tests.conftest import client_for, make_customer, make_lead

pytestmark = pytest.mark.django_db


def _task(customer: Customer, by: User, **data: Any) -> Task:
    fields = {"type": "call", "subject": "Llamar", "due_date": timezone.localdate()} | data
    return services.create_task(customer=customer, data=fields, by=by)


def test_logging_a_call_puts_it_on_the_timeline(owner: User) -> None:
    customer = make_lead(owner)
    note = services.log_note(
        customer=customer,
        data={"kind": "call", "subject": "Primera llamada",
              "body": "Interesados.\n\nVolver a llamar.",
              "direction": "out", "duration_minutes": 12},
        by=owner,
    )  # fmt: skip
    entry = TimelineEntry.objects.get(customer=customer, note=note)
    assert entry.kind == EntryKind.CALL and entry.actor == owner
    page = client_for(owner).get(f"/customers/{customer.pk}/").content.decode()
    assert "Primera llamada" in page and "<p>Volver a llamar.</p>" in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "note", "body": ""}, "body"),
        ({"kind": "fax", "body": "x"}, "kind"),
        ({"kind": "note", "body": "x" * 20_001}, "body"),
        ({"kind": "call", "subject": "x",
          "occurred_at": timezone.now() + datetime.timedelta(days=2)}, "occurred_at"),
    ],
)  # fmt: skip
def test_bad_notes_are_refused_naming_the_field(
    owner: User, data: dict[str, Any], field: str
) -> None:
    customer = make_lead(owner)
    with pytest.raises(CustomerInvalid) as caught:
        services.log_note(customer=customer, data=data, by=owner)
    assert field in caught.value.messages_by_field
    assert not Note.objects.exists()


def test_note_form_page(owner: User) -> None:
    customer = make_lead(owner)
    client = client_for(owner)
    url = f"/customers/{customer.pk}/notes/new/"
    assert client.post(url, {"kind": "note", "body": ""}).status_code == 422
    response = client.post(url, {"kind": "email", "subject": "Envío tarifa", "body": "Adjunta"})
    assert response.status_code == 302
    assert Note.objects.get(customer=customer).kind == "email"


def test_notes_are_escaped(owner: User) -> None:
    customer = make_lead(owner)
    services.log_note(
        customer=customer, data={"kind": "note", "body": "<script>alert(1)</script>"}, by=owner
    )
    page = client_for(owner).get(f"/customers/{customer.pk}/timeline/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_timeline_tells_the_story_newest_first_and_filters(owner: User) -> None:
    lead = make_lead(owner, name="Panadería Sol")
    services.log_note(customer=lead, data={"kind": "call", "subject": "Llamada"}, by=owner)
    services.change_stage(customer=lead, to="prospect", by=owner, reason="Quiere 3 hornos")
    kinds = list(services.timeline_for(lead, owner).values_list("kind", flat=True))
    assert kinds == ["stage", "call", "stage"]
    client = client_for(owner)
    only_calls = client.get(f"/customers/{lead.pk}/timeline/", {"kind": "calls"}).content.decode()
    assert "Llamada" in only_calls and "Quiere 3 hornos" not in only_calls
    # an unknown filter shows everything rather than failing
    assert client.get(f"/customers/{lead.pk}/timeline/", {"kind": "x"}).status_code == 200


def test_private_tasks_of_others_stay_off_the_timeline(owner: User, teammate: User) -> None:
    customer = make_lead(owner)
    _task(customer, owner, subject="Asunto privado", private=True)
    _task(customer, owner, subject="Asunto público")
    mine = [e.task.subject for e in services.timeline_for(customer, owner) if e.task]
    theirs = [e.task.subject for e in services.timeline_for(customer, teammate) if e.task]
    assert "Asunto privado" in mine
    assert theirs == ["Asunto público"]
    page = client_for(teammate).get(f"/customers/{customer.pk}/timeline/").content.decode()
    assert "Asunto privado" not in page


def test_timeline_of_another_teams_customer_is_not_found(
    owner: User, outsider: User, team_visibility: Any
) -> None:
    customer = make_lead(owner)
    assert client_for(outsider).get(f"/customers/{customer.pk}/timeline/").status_code == 404
    assert (
        client_for(outsider)
        .post(f"/customers/{customer.pk}/notes/new/", {"kind": "note", "body": "x"})
        .status_code
        == 404
    )
    assert not Note.objects.exists()


def _count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_timeline_runs_a_fixed_number_of_queries(owner: User) -> None:
    customer = make_lead(owner)
    client = client_for(owner)
    services.log_note(customer=customer, data={"kind": "note", "body": "uno"}, by=owner)
    few = _count_queries(client, f"/customers/{customer.pk}/timeline/")
    few_ficha = _count_queries(client, f"/customers/{customer.pk}/")
    for n in range(30):
        services.log_note(customer=customer, data={"kind": "call", "subject": f"c{n}"}, by=owner)
        _task(customer, owner, subject=f"t{n}")
    services.change_stage(customer=customer, to="prospect", by=owner, reason="ok")
    assert _count_queries(client, f"/customers/{customer.pk}/timeline/") == few
    assert _count_queries(client, f"/customers/{customer.pk}/") == few_ficha


# --- Mi día ----------------------------------------------------------------------


def test_my_day_shows_my_tasks_due_and_overdue_only(owner: User, teammate: User) -> None:
    customer = make_customer(owner)
    today = timezone.localdate()
    _task(customer, owner, subject="Hoy")
    _task(customer, owner, subject="Atrasada", due_date=today - datetime.timedelta(days=3))
    _task(customer, owner, subject="Para pasado", due_date=today + datetime.timedelta(days=1))
    _task(customer, owner, subject="De Tomás", assignee=teammate)
    done = _task(customer, owner, subject="Ya terminada")
    services.complete_task(task=done, by=owner)
    page = client_for(owner).get("/today/").content.decode()
    section = page.split('id="today-tasks"')[1].split("</article>")[0]
    due = section.split("<details>")[0]
    assert "Hoy" in due and "Atrasada" in due
    assert "Para pasado" not in due and "De Tomás" not in due and "Ya terminada" not in due
    assert "overdue" in due.split("Atrasada")[0].rsplit("<li", 1)[1]


def test_done_and_snooze_from_my_day(owner: User, teammate: User) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner, subject="Llamar", type="call",
                 recurrence_interval=1, recurrence_unit="week")  # fmt: skip
    client = client_for(owner)
    response = client.post(f"/today/tasks/{task.pk}/done/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "done" in response.content.decode()
    task.refresh_from_db()
    assert task.done_at is not None
    following = Task.objects.get(previous=task)
    assert following.due_date == timezone.localdate() + datetime.timedelta(weeks=1)
    other = _task(customer, owner, subject="Enviar oferta")
    assert client.post(f"/today/tasks/{other.pk}/snooze/").status_code == 302
    other.refresh_from_db()
    assert other.due_date == timezone.localdate() + datetime.timedelta(days=1)
    # someone else's private task cannot be touched by id
    private = _task(customer, teammate, subject="Privada", private=True, assignee=teammate)
    assert client.post(f"/today/tasks/{private.pk}/done/").status_code == 404
    private.refresh_from_db()
    assert private.done_at is None


def test_my_day_lists_reminders_and_follow_ups(owner: User) -> None:
    customer = make_customer(owner, follow_up=True)
    Reminder.objects.create(
        user=owner, customer=customer, kind="review", due_date=timezone.localdate(), key="k1"
    )
    page = client_for(owner).get("/today/").content.decode()
    reminders = page.split('id="today-reminders"')[1].split("</article>")[0]
    assert customer.display_name in reminders
    follow = page.split('id="today-follow-ups"')[1].split("</article>")[0]
    assert customer.display_name in follow


def test_my_day_runs_a_fixed_number_of_queries(owner: User) -> None:
    customer = make_customer(owner, follow_up=True)
    client = client_for(owner)
    _task(customer, owner)
    few = _count_queries(client, "/today/")
    for n in range(20):
        _task(customer, owner, subject=f"t{n}")
        Reminder.objects.create(
            user=owner, customer=customer, kind="review", due_date=timezone.localdate(),
            key=f"k{n}",
        )  # fmt: skip
    assert _count_queries(client, "/today/") == few


def test_home_is_my_day(owner: User) -> None:
    response = client_for(owner).get("/")
    assert response.status_code == 302 and response["Location"] == "/today/"


def test_private_tasks_stay_out_of_other_peoples_history(
    owner: User, teammate: User, manager: User
) -> None:
    customer = make_lead(owner)
    _task(customer, owner, subject="Asunto secreto", private=True)
    _task(customer, owner, subject="Asunto de equipo")
    for user in (teammate, manager):
        client = client_for(user)
        ficha = client.get(f"/customers/{customer.pk}/").content.decode()
        history = client.get(f"/customers/{customer.pk}/history/").content.decode()
        api = client.get(f"/api/customers/{customer.pk}/history").content.decode()
        for text in (ficha, history, api):
            assert "Asunto secreto" not in text
            assert "Asunto de equipo" in text
    assert (
        "Asunto secreto"
        in client_for(owner).get(f"/customers/{customer.pk}/history/").content.decode()
    )
