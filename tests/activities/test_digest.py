"""The morning digest: each user's own due tasks and reminders, in their language, or no
e-mail at all."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings
from django.utils import timezone

from cartera.accounts.models import User
from cartera.activities.digest import send_digests, send_digests_job
from cartera.activities.models import Reminder, Task
from cartera.customers.models import Contact, Customer
from tests.conftest import make_lead

TODAY = datetime.date(2026, 3, 10)
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("locmem_mail"),
]


@pytest.fixture
def locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CARTERA_BASE_URL = "https://crm.example.com"


def task(customer: Customer, subject: str, due: datetime.date, assignee: User, **kw: Any) -> Task:
    return Task.objects.create(
        customer=customer, type="call", subject=subject, due_date=due, assignee=assignee, **kw
    )


def with_mail(user: User, language: str = "en") -> User:
    user.email = f"{user.username}@example.com"
    user.language = language
    user.save()
    return user


def message_to(user: User) -> EmailMultiAlternatives:
    found = [m for m in mail.outbox if m.to == [user.email]]
    assert len(found) == 1, [m.to for m in mail.outbox]
    message = found[0]
    assert isinstance(message, EmailMultiAlternatives)
    return message


def html_of(message: EmailMultiAlternatives) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(html)


def test_digest_holds_exactly_the_users_due_tasks_and_reminders(
    owner: User, teammate: User
) -> None:
    # given olga's and tomás's work on olga's customers
    with_mail(owner)
    with_mail(teammate)
    customer = make_lead(owner, "Ferretería Núñez")
    other = make_lead(owner, "Bodegas Roca")
    yesterday, tomorrow = TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=1)
    task(customer, "Overdue call", yesterday, owner)
    task(other, "Call today", TODAY, owner, due_time=datetime.time(9, 30))
    task(customer, "Tomorrow call", tomorrow, owner)
    task(customer, "Done call", TODAY, owner, done_at=timezone.now())
    task(customer, "Tomas call", TODAY, teammate)
    contact = Contact.objects.create(customer=customer, first_name="Lola")
    Reminder.objects.create(
        user=owner, customer=customer, contact=contact, kind="birthday", due_date=TODAY, key="b1"
    )
    Reminder.objects.create(user=owner, customer=other, kind="review", due_date=TODAY, key="r1")
    Reminder.objects.create(
        user=owner, customer=other, kind="follow_up", due_date=TODAY, key="f1",
        snoozed_until=tomorrow,
    )  # fmt: skip
    Reminder.objects.create(
        user=owner, customer=other, kind="anniversary", due_date=TODAY, key="a1",
        done_at=timezone.now(),
    )  # fmt: skip

    # when the digests go out
    sent = send_digests(TODAY)

    # then olga's lists her overdue and today's tasks and her two pending reminders, no more
    assert sent == 2
    message = message_to(owner)
    body, html = message.body, html_of(message)
    for text in (body, html):
        assert "Overdue call" in text
        assert "Call today" in text
        assert "Birthday of Lola (Ferretería Núñez)" in text
        assert "Review the data of Bodegas Roca" in text
        for absent in (
            "Tomorrow call",
            "Done call",
            "Tomas call",
            "Follow up",
            "years as a client",
        ):
            assert absent not in text
    assert "09:30" in body
    overdue = re.search(r'<ul id="overdue">(.*?)</ul>', html, re.S)
    today = re.search(r'<ul id="today">(.*?)</ul>', html, re.S)
    assert overdue and "Overdue call" in overdue.group(1) and "Call today" not in overdue.group(1)
    assert today and "Call today" in today.group(1)
    # links are absolute, to the customers' fichas
    assert f'href="https://crm.example.com/customers/{customer.pk}/"' in html
    assert f"https://crm.example.com/customers/{other.pk}/" in body
    # and tomás's holds only his task
    theirs = message_to(teammate)
    assert "Tomas call" in theirs.body
    assert "Overdue call" not in theirs.body
    assert "Birthday" not in theirs.body


def test_no_mail_for_users_with_nothing_due_off_or_without_address(
    owner: User, teammate: User, manager: User, admin_user: User
) -> None:
    # given: olga has only a task for tomorrow; tomás turned the digest off; marta has no
    # address; ana is deactivated — each with something due otherwise
    for user in (owner, teammate, admin_user):
        with_mail(user)
    customer = make_lead(manager, "Cliente")
    task(customer, "Mañana", TODAY + datetime.timedelta(days=1), owner)
    task(customer, "Hoy", TODAY, teammate)
    task(customer, "Hoy", TODAY, manager)
    task(customer, "Hoy", TODAY, admin_user)
    User.objects.filter(pk=teammate.pk).update(digest_enabled=False)
    User.objects.filter(pk=admin_user.pk).update(is_active=False)

    # when the digests go out, then nobody gets one
    assert send_digests(TODAY) == 0
    assert mail.outbox == []


def test_digest_in_the_users_language_spanish_by_default(owner: User) -> None:
    # given olga with no language chosen and a task due
    with_mail(owner, language="")
    task(make_lead(owner, "Cliente"), "Llamar", TODAY, owner)

    # when the digest goes out, then it is in Spanish (the English subject is not used)
    send_digests(TODAY)
    message = message_to(owner)
    assert 'lang="es"' in html_of(message)
    assert message.subject != "Your day in Cartera: March 10, 2026"

    # and in English for a user who chose it (the next day: one digest a day)
    mail.outbox.clear()
    with_mail(owner, language="en")
    send_digests(TODAY + datetime.timedelta(days=1))
    assert message_to(owner).subject == "Your day in Cartera: March 11, 2026"


def test_tasks_of_customers_the_user_no_longer_sees_are_left_out(
    owner: User, outsider: User, team_visibility: Any
) -> None:
    # given a task of olga's on a customer handed to another team's salesperson
    with_mail(owner)
    customer = make_lead(owner, "Traspasado")
    task(customer, "Old call", TODAY, owner)
    Customer.objects.filter(pk=customer.pk).update(owner=outsider)

    # then olga gets no e-mail about it
    assert send_digests(TODAY) == 0


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_digest_queries_do_not_grow_with_the_number_of_tasks(
    owner: User, django_assert_num_queries: Any
) -> None:
    # given a user with many due tasks and reminders on several customers
    with_mail(owner)
    for n in range(6):
        customer = make_lead(owner, f"Cliente {n}")
        task(customer, f"Tarea {n}", TODAY, owner)
        Reminder.objects.create(
            user=owner, customer=customer, kind="review", due_date=TODAY, key=f"r{n}"
        )

    # then sending is the recipients' query and, per recipient, two for the digest and four
    # for its once-a-day mark (read, savepoint, insert, release)
    with django_assert_num_queries(7):
        assert send_digests(TODAY) == 1


def test_the_daily_job_sends_todays_digests(owner: User) -> None:
    with_mail(owner)
    task(make_lead(owner, "Cliente"), "Llamar", timezone.localdate(), owner)

    assert send_digests_job.call() == 1
    assert len(mail.outbox) == 1


def test_a_second_run_the_same_day_sends_nothing_twice(owner: User, teammate: User) -> None:
    # given two users with something due, and olga's digest already sent today
    with_mail(owner)
    with_mail(teammate)
    task(make_lead(owner, "Cliente"), "Llamar", TODAY, owner)
    task(make_lead(teammate, "Otro"), "Visitar", TODAY, teammate)
    assert send_digests(TODAY) == 2
    # when the job runs again the same day (a retry), nobody gets a second e-mail
    mail.outbox.clear()
    assert send_digests(TODAY) == 0
    assert mail.outbox == []
