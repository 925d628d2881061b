"""Tasks in the browser: one created from the ficha's panel, then done from the agenda."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.activities import services
from cartera.activities.models import Task
from tests.conftest import make_customer, make_user
from tests.e2e.conftest import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_task_created_on_the_ficha_is_done_from_the_agenda(page: Page, live_server: Any) -> None:
    # given a salesperson, their customer, and a task of it already late
    user = make_user("olga")
    customer = make_customer(user)
    today = timezone.localdate()
    services.create_task(
        customer=customer,
        data={
            "type": "email",
            "subject": "Enviar la tarifa",
            "due_date": today - datetime.timedelta(days=2),
        },
        by=user,
    )
    login(page, live_server, user)

    # when they open the ficha and add a task in the Tasks panel
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#tasks-panel")
    expect(panel.locator("li.overdue")).to_contain_text("Enviar la tarifa")
    panel.locator("details summary").click()
    panel.locator("select[name=task-type]").select_option("call")
    panel.locator("input[name=task-subject]").fill("Llamar para la renovación")
    panel.locator("input[name=task-due_date]").fill(today.isoformat())
    panel.locator("input[name=task-due_time]").fill("10:30")
    shot(page, "tasks-ficha-new-task-form")
    panel.locator("form.task-form button[type=submit]").click()

    # then the panel shows it in place (htmx), marked as due today
    panel = page.locator("#tasks-panel")
    expect(panel.locator("li.due-today")).to_contain_text("Llamar para la renovación")
    task = Task.objects.get(subject="Llamar para la renovación")
    assert (task.assignee, task.due_date, task.due_time) == (user, today, datetime.time(10, 30))
    # and the timeline below tells of it without reloading the page
    expect(page.locator("#timeline-entries li.entry").first).to_contain_text(
        "Llamar para la renovación"
    )
    shot(page, "tasks-ficha-panel")

    # when they open the agenda from the menu and mark it done
    page.locator("header nav a[href='/tasks/']").click()
    expect(page.locator("h1")).to_have_text("Agenda")
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_have_class("agenda-row due-today")
    expect(page.locator(".agenda-group.group-overdue")).to_contain_text("Enviar la tarifa")
    shot(page, "tasks-agenda")
    row.locator("form[action$='/done/'] button").click()

    # then the row says it is done, without leaving the page
    expect(page.locator(f"#task-{task.pk}")).to_have_class("agenda-row is-done")
    expect(page.locator(f"#task-{task.pk} form[action$='/reopen/']")).to_be_visible()
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == user
    shot(page, "tasks-agenda-done")


def test_a_task_for_a_customer_found_from_the_agenda(page: Page, live_server: Any) -> None:
    # given a salesperson with a customer
    user: User = make_user("olga")
    customer = make_customer(user, legal_name="Ferretería Quintana SL")
    login(page, live_server, user)

    # when they search for the customer from the agenda and pick it
    page.goto(f"{live_server.url}/tasks/")
    page.locator("details.new-task-picker summary").click()
    page.locator("details.new-task-picker input[name=q]").fill("quintana")
    match = page.locator("#customer-matches a", has_text="Ferretería Quintana")
    expect(match).to_be_visible()
    shot(page, "tasks-agenda-picker")
    match.click()

    # then the task form is for that customer, and the task is saved
    page.locator("input[name=task-subject]").fill("Visitar la tienda")
    page.locator("input[name=task-due_date]").fill("2040-03-02")
    page.locator("form.task-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Agenda")
    assert Task.objects.get(subject="Visitar la tienda").customer == customer
    expect(page.locator(".agenda-group.group-later")).to_contain_text("Visitar la tienda")

    # and its page shows it with its edit form
    page.locator(".agenda-group.group-later a", has_text="Visitar la tienda").click()
    expect(page.locator("h1")).to_have_text("Visitar la tienda")
    expect(page.locator("input[name=task-subject]")).to_have_value("Visitar la tienda")
    shot(page, "tasks-detail")
