"""Task pages: the ficha's panel, the agenda, creating, editing, done and snooze."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartera.accounts.models import Role, User
from cartera.activities import services
from cartera.activities.models import Task
from cartera.activities.task_views import tasks_panel
from cartera.core.models import Company
from cartera.customers.models import Customer
from tests.conftest import client_for, make_customer, make_lead, make_user

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def _en(user: User) -> Client:
    client = client_for(user)
    client.cookies["cartera_language"] = "en"
    return client


def _task(customer: Customer, by: User, **data: Any) -> Task:
    fields = {"type": "call", "subject": "Llamar", "due_date": TODAY} | data
    return services.create_task(customer=customer, data=fields, by=by)


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "task-type": "call",
        "task-subject": "Llamar por la renovación",
        "task-due_date": (TODAY + 3 * DAY).strftime("%d/%m/%Y"),
        "task-due_time": "",
        "task-priority": "normal",
        "task-recurrence_interval": "",
        "task-recurrence_unit": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _row(html: str, task: Task) -> str:
    """The panel's or agenda's element of one task (its opening tag)."""
    match = re.search(rf'<(li|tr)[^>]*(data-task="{task.pk}"|id="task-{task.pk}")[^>]*>', html)
    assert match, f"task {task.pk} is not listed"
    return match.group(0)


def _panel(html: str) -> str:
    start = html.index('id="tasks-panel"')
    return html[start : html.index("</article>", start)]


# --- The ficha's panel ------------------------------------------------------------------


def test_the_panel_shows_open_tasks_with_overdue_in_red_and_the_last_done(owner: User) -> None:
    # given a customer with an overdue, a today's, a future and a done task
    customer = make_customer(owner)
    late = _task(customer, owner, subject="Atrasada", due_date=TODAY - 2 * DAY)
    today = _task(customer, owner, subject="De hoy")
    later = _task(customer, owner, subject="Más tarde", due_date=TODAY + 9 * DAY)
    done = _task(customer, owner, subject="Hecha")
    services.complete_task(task=done, by=owner, outcome="Pidió presupuesto")

    # when the owner opens the ficha
    html = _en(owner).get(f"/customers/{customer.pk}/").content.decode()

    # then the panel lists them: overdue marked, today's marked, the done one with its outcome
    assert 'id="tasks-panel"' in html
    assert "overdue" in _row(html, late)
    assert "due-today" in _row(html, today)
    assert "overdue" not in _row(html, later) and "due-today" not in _row(html, later)
    assert "is-done" in _row(html, done) and "Pidió presupuesto" in html
    assert html.index("Atrasada") < html.index("De hoy") < html.index("Más tarde")
    # the new-task form is fetched when opened (htmx), and is a page of its own without it
    assert 'id="task-form-slot"' in html and 'name="task-subject"' not in html
    fragment = _en(owner).get(
        f"/tasks/customers/{customer.pk}/new/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="task-form-slot",
    )
    form_html = fragment.content.decode()
    assert form_html.lstrip().startswith("<form") and 'name="task-subject"' in form_html
    assert 'hx-target="#tasks-panel"' in form_html and "<html" not in form_html


def test_the_new_task_form_is_not_given_to_a_reader_nor_to_who_cannot_see_the_customer(
    owner: User, reader: User, outsider: User, team_visibility: Any
) -> None:
    customer = make_customer(owner)
    reader.team = owner.team  # sees the team's customers, may not write
    reader.save()
    asked = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "task-form-slot"}
    url = f"/tasks/customers/{customer.pk}/new/"
    assert _en(reader).get(url, **asked).status_code == 403
    assert _en(outsider).get(url, **asked).status_code == 404
    # the fragment and the full page share a URL: caches must tell them apart
    response = _en(owner).get(url, **asked)
    assert response.status_code == 200 and "HX-Target" in response["Vary"]


def test_a_reader_sees_the_tasks_but_no_form_or_buttons(owner: User, reader: User) -> None:
    customer = make_customer(owner)
    _task(customer, owner, subject="Visible")
    html = _en(reader).get(f"/customers/{customer.pk}/").content.decode()
    assert "Visible" in html
    assert 'name="task-subject"' not in html and "task-form-slot" not in html
    assert 'name="outcome"' not in html


def _panel_queries(user: User, customer: Customer) -> int:
    request = RequestFactory().get(f"/customers/{customer.pk}/")
    request.user = user
    with CaptureQueriesContext(connection) as ctx:
        context = tasks_panel(request, customer, user)
        render_to_string(
            "activities/_tasks_panel.html",
            {"panel": context, "customer": customer, "user": user},
            request=request,
        )
    return len(ctx.captured_queries)


def test_the_panel_runs_a_fixed_number_of_queries(owner: User, teammate: User) -> None:
    customer = Customer.objects.select_related("owner").get(pk=make_customer(owner).pk)
    contact_customer = customer
    _task(contact_customer, owner)
    done = _task(customer, teammate, private=True)
    services.complete_task(task=done, by=teammate)
    few = _panel_queries(owner, customer)
    for i in range(12):
        task = _task(
            customer,
            teammate if i % 2 else owner,
            subject=f"Tarea {i}",
            due_date=TODAY + (i - 5) * DAY,
            recurrence_interval=1,
            recurrence_unit="week",
        )
        if i % 3 == 0:
            services.complete_task(task=task, by=owner, outcome="ok")
    assert _panel_queries(owner, customer) == few


def test_a_task_created_from_the_ficha_without_javascript(owner: User, manager: User) -> None:
    # given the ficha's inline form, a date typed as dd/mm/aaaa
    customer = make_customer(owner)
    client = _en(manager)

    # when it is sent
    response = client.post(
        f"/tasks/customers/{customer.pk}/new/",
        _form(
            **{
                "task-assignee": str(owner.pk),
                "task-due_time": "09:30",
                "next": f"/customers/{customer.pk}/",
            }
        ),
    )

    # then the task exists, for the owner, and the browser goes back to the ficha
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    task = Task.objects.get(customer=customer)
    assert task.due_date == TODAY + 3 * DAY
    assert task.due_time == datetime.time(9, 30)
    assert (task.assignee, task.created_by) == (owner, manager)


def test_a_task_created_from_the_panel_with_htmx_comes_back_in_the_panel(owner: User) -> None:
    customer = make_customer(owner)
    response = _en(owner).post(
        f"/tasks/customers/{customer.pk}/new/",
        _form(**{"task-assignee": str(owner.pk), "task-subject": "Desde el panel"}),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="tasks-panel",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<article") and "Desde el panel" in html
    assert Task.objects.filter(subject="Desde el panel").exists()
    # and the timeline, swapped out of band, already tells of the new task
    timeline = html[html.index('id="timeline-entries" hx-swap-oob="true"') :]
    assert "Desde el panel" in timeline


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"task-subject": ""}, "subject"),
        ({"task-due_date": "31/02/2026"}, "due_date"),
        ({"task-due_date": ""}, "due_date"),
        ({"task-type": "baile"}, "type"),
        ({"task-recurrence_interval": "2"}, "recurrence_unit"),
        ({"task-recurrence_interval": "0", "task-recurrence_unit": "day"}, "recurrence_interval"),
    ],
)
def test_a_bad_task_form_shows_the_error_on_its_field_and_saves_nothing(
    owner: User, overrides: dict[str, str], field: str
) -> None:
    customer = make_customer(owner)
    response = _en(owner).post(
        f"/tasks/customers/{customer.pk}/new/",
        _form(**{"task-assignee": str(owner.pk)}, **overrides),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(rf'data-field="{field}"[^>]*>', html)
    assert f'id="id_task-{field}_error"' in html
    assert not Task.objects.exists()


def test_the_contact_and_assignee_must_be_allowed(owner: User, outsider: User) -> None:
    # given a customer and another customer's contact
    customer = make_customer(owner)
    other = make_customer(
        owner,
        tax_id="A58818501",
        legal_name="Otra SA",
        contacts=[{"first_name": "Eva", "last_name": "Ruiz"}],
    )
    foreign = other.contacts.get()
    response = _en(owner).post(
        f"/tasks/customers/{customer.pk}/new/",
        _form(**{"task-assignee": str(outsider.pk), "task-contact": str(foreign.pk)}),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_task-assignee_error"' in html and 'id="id_task-contact_error"' in html
    assert not Task.objects.exists()


def test_meeting_with_an_inactive_customer_is_refused_on_the_type_field(owner: User) -> None:
    company = Company.load()
    company.restrict_to_active = True
    company.save()
    customer = make_customer(owner)
    customer.status = "inactive"
    customer.save()
    response = _en(owner).post(
        f"/tasks/customers/{customer.pk}/new/",
        _form(**{"task-assignee": str(owner.pk), "task-type": "meeting"}),
    )
    assert response.status_code == 422
    assert 'id="id_task-type_error"' in response.content.decode()
    assert "Only active customers" in response.content.decode()
    assert not Task.objects.exists()


def test_done_from_the_panel_with_an_outcome(owner: User) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner)
    response = _en(owner).post(
        f"/tasks/{task.pk}/done/",
        {"outcome": "Firmado", "next": f"/customers/{customer.pk}/"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="tasks-panel",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "is-done" in _row(html, task)
    task.refresh_from_db()
    assert task.outcome == "Firmado" and task.done_by == owner
    # the timeline beside the panel is refreshed with the task's outcome
    assert "Firmado" in html[html.index('id="timeline-entries" hx-swap-oob="true"') :]


# --- Access -----------------------------------------------------------------------------


def test_a_private_task_is_not_found_by_a_teammate_or_a_manager(
    owner: User, teammate: User, manager: User
) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner, private=True)
    for user in (teammate, manager):
        client = _en(user)
        assert client.get(f"/tasks/{task.pk}/").status_code == 404
        assert client.post(f"/tasks/{task.pk}/done/").status_code == 404
        assert "Llamar" not in _panel(client.get(f"/customers/{customer.pk}/").content.decode())
    assert _en(owner).get(f"/tasks/{task.pk}/").status_code == 200
    task.refresh_from_db()
    assert task.done_at is None


def test_an_outsider_gets_404_and_a_reader_403(
    owner: User, outsider: User, team_visibility: Company
) -> None:
    reader = make_user("lectora", role=Role.READ_ONLY, team=owner.team)  # sees the team's
    customer = make_customer(owner)
    task = _task(customer, owner)
    outsider_client = _en(outsider)
    assert outsider_client.get(f"/tasks/{task.pk}/").status_code == 404
    assert outsider_client.post(f"/tasks/{task.pk}/snooze/", {"days": "1"}).status_code == 404
    assert outsider_client.get(f"/tasks/customers/{customer.pk}/new/").status_code == 404
    response = outsider_client.post("/tasks/new/", {"customer": str(customer.pk), **_form()})
    assert response.status_code == 404
    reader_client = _en(reader)
    assert reader_client.get(f"/tasks/{task.pk}/").status_code == 200
    assert reader_client.post(f"/tasks/{task.pk}/done/").status_code == 403
    assert reader_client.post(f"/tasks/customers/{customer.pk}/new/", _form()).status_code == 403
    assert reader_client.get("/tasks/new/").status_code == 403
    assert Task.objects.count() == 1
    task.refresh_from_db()
    assert task.done_at is None and task.due_date == TODAY


def test_editing_a_task(owner: User, teammate: User) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner)
    client = _en(teammate)
    page = client.get(f"/tasks/{task.pk}/")
    assert page.status_code == 200 and 'name="task-subject"' in page.content.decode()
    response = client.post(
        f"/tasks/{task.pk}/",
        _form(
            **{
                "task-subject": "Cambiada",
                "task-assignee": str(teammate.pk),
                "task-due_date": "2040-05-01",
            }
        ),
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.subject, task.assignee, task.due_date) == (
        "Cambiada",
        teammate,
        datetime.date(2040, 5, 1),
    )
    bad = client.post(f"/tasks/{task.pk}/", _form(**{"task-subject": ""}))
    assert bad.status_code == 422
    task.refresh_from_db()
    assert task.subject == "Cambiada"


# --- The agenda -------------------------------------------------------------------------


def test_the_agenda_groups_the_users_open_tasks(owner: User, teammate: User) -> None:
    customer = make_customer(owner)
    late = _task(customer, owner, subject="Atrasada", due_date=TODAY - DAY)
    today = _task(customer, owner, subject="Hoy mismo")
    week = _task(customer, owner, subject="Esta semana", due_date=TODAY + 3 * DAY)
    later = _task(customer, owner, subject="Dentro de un mes", due_date=TODAY + 30 * DAY)
    done = _task(customer, owner, subject="Ya hecha")
    services.complete_task(task=done, by=owner)
    _task(customer, owner, subject="De Tomás", assignee=teammate)

    html = _en(owner).get("/tasks/").content.decode()

    headings = re.findall(r"<h2>([^<]+?) <small", html)
    assert headings == ["Overdue", "Today", "Next 7 days", "Later"]
    assert "overdue" in _row(html, late) and "due-today" in _row(html, today)
    assert "Esta semana" in html and "Dentro de un mes" in html
    assert "Ya hecha" not in html and "De Tomás" not in html
    team_html = _en(owner).get("/tasks/?who=team").content.decode()
    assert "De Tomás" in team_html
    assert str(week.pk) and str(later.pk)


def test_agenda_filters_by_type_and_customer_search(owner: User) -> None:
    first = make_customer(owner)
    second = make_lead(owner, "Ferretería Ruiz")
    _task(first, owner, subject="Llamada A", type="call")
    _task(second, owner, subject="Visita B", type="visit")
    client = _en(owner)
    html = client.get("/tasks/?type=visit").content.decode()
    assert "Visita B" in html and "Llamada A" not in html
    html = client.get("/tasks/?q=ferreteria").content.decode()
    assert "Visita B" in html and "Llamada A" not in html
    html = client.get(f"/tasks/?customer={first.pk}").content.decode()
    assert "Llamada A" in html and "Visita B" not in html


def test_only_managers_may_see_everyones_agenda(owner: User, outsider: User, manager: User) -> None:
    customer = make_customer(owner)
    _task(customer, owner, subject="Tarea de Olga")
    assert "Tarea de Olga" in _en(manager).get("/tasks/?who=all").content.decode()
    # a salesperson asking for everyone gets their own agenda (the choice is not offered)
    html = _en(outsider).get("/tasks/?who=all").content.decode()
    assert "Tarea de Olga" not in html
    assert 'value="all"' not in html


def _agenda_queries(user: User, url: str = "/tasks/?who=all") -> int:
    client = client_for(user)
    client.get(url)  # the session and the company are warm
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_agenda_runs_a_fixed_number_of_queries(owner: User, manager: User) -> None:
    customers = [make_customer(owner)] + [make_lead(owner, f"Cliente {i}") for i in range(4)]
    _task(customers[0], owner)
    few = _agenda_queries(manager)
    for i in range(20):
        customer = customers[i % len(customers)]
        contact_less = _task(
            customer,
            owner if i % 2 else manager,
            subject=f"Tarea {i}",
            due_date=TODAY + (i - 8) * DAY,
        )
        assert contact_less.pk
    assert _agenda_queries(manager) == few
    assert _agenda_queries(owner, "/tasks/") == _agenda_queries(owner, "/tasks/?type=call")


def test_the_agenda_is_paginated(owner: User, settings: Any) -> None:
    settings.CARTERA_PAGE_SIZE = 5
    customer = make_customer(owner)
    for i in range(7):
        _task(customer, owner, subject=f"Número {i:02d}", due_date=TODAY + i * DAY)
    client = _en(owner)
    first = client.get("/tasks/").content.decode()
    second = client.get("/tasks/?page=2").content.decode()
    assert "Número 04" in first and "Número 05" not in first
    assert "Número 05" in second and "Número 06" in second


def test_done_and_snooze_from_the_agenda_with_htmx(owner: User) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner, due_date=TODAY - 3 * DAY)
    client = _en(owner)
    snoozed = client.post(
        f"/tasks/{task.pk}/snooze/",
        {"days": "7", "next": "/tasks/"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"task-{task.pk}",
    )
    assert snoozed.status_code == 200
    task.refresh_from_db()
    assert task.due_date == TODAY + 7 * DAY
    html = snoozed.content.decode()
    assert html.lstrip().startswith("<tr") and "overdue" not in _row(html, task)
    done = client.post(
        f"/tasks/{task.pk}/done/",
        {"next": "/tasks/"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"task-{task.pk}",
    )
    assert "is-done" in _row(done.content.decode(), task)
    assert f'hx-post="/tasks/{task.pk}/reopen/"' in done.content.decode()
    task.refresh_from_db()
    assert task.done_at is not None
    # without JavaScript: back to the agenda
    reopened = client.post(f"/tasks/{task.pk}/reopen/", {"next": "/tasks/?type=call"})
    assert reopened.status_code == 302 and reopened["Location"] == "/tasks/?type=call"
    # a next address elsewhere is not followed
    elsewhere = client.post(f"/tasks/{task.pk}/snooze/", {"next": "https://evil.example/"})
    assert elsewhere["Location"] == f"/customers/{customer.pk}/"


# --- A task from the agenda, picking the customer ---------------------------------------


def test_picking_the_customer_searches_only_visible_ones(
    owner: User, outsider: User, team_visibility: Company
) -> None:
    mine = make_lead(owner, "Panadería Olga")
    theirs = make_lead(outsider, "Panadería Oscar")
    client = _en(owner)
    fragment = client.get(
        "/tasks/new/?q=panaderia", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-matches"
    ).content.decode()
    assert f"?customer={mine.pk}" in fragment and f"?customer={theirs.pk}" not in fragment
    assert "<html" not in fragment
    page = client.get("/tasks/new/?q=panaderia").content.decode()  # without JavaScript
    assert f"?customer={mine.pk}" in page
    assert client.get(f"/tasks/new/?customer={theirs.pk}").status_code == 404


def test_a_task_created_from_the_agenda(owner: User) -> None:
    customer = make_lead(owner, "Lead de la agenda")
    client = _en(owner)
    form_page = client.get(f"/tasks/new/?customer={customer.pk}")
    assert 'name="task-subject"' in form_page.content.decode()
    response = client.post(
        "/tasks/new/", {"customer": str(customer.pk), **_form(**{"task-assignee": str(owner.pk)})}
    )
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    assert Task.objects.get().customer == customer
    missing = client.post("/tasks/new/", _form())
    assert missing.status_code == 422
    assert Task.objects.count() == 1


def test_a_new_user_with_no_tasks_sees_an_empty_agenda(db: Any) -> None:
    user = make_user("nuevo")
    html = _en(user).get("/tasks/").content.decode()
    assert "No open tasks match" in html
