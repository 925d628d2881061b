"""The private calendar feed (.ics), read back with the icalendar package, and its page."""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from cartera.accounts.models import User
from cartera.activities import calendar
from cartera.activities.models import CalendarFeed, Reminder, Task
from cartera.customers.models import Customer
from tests.conftest import client_for, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> None:
    settings.CARTERA_BASE_URL = "https://crm.example.com"
    for cache in caches.all():
        cache.clear()


def task(customer: Customer, subject: str, due: datetime.date, assignee: User, **kw: Any) -> Task:
    return Task.objects.create(
        customer=customer, type="call", subject=subject, due_date=due, assignee=assignee, **kw
    )


def read(key: str) -> Calendar:
    response = Client().get(f"/calendar/{key}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(cal: Calendar) -> dict[str, Any]:
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


# --- What the feed holds ------------------------------------------------------------------------


def test_feed_holds_exactly_the_users_open_tasks_and_pending_reminders(
    owner: User, teammate: User
) -> None:
    # given olga's work and tomás's, around today (olga reads Cartera in English)
    User.objects.filter(pk=owner.pk).update(language="en")
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    customer = make_lead(owner, "Ferretería Núñez")
    task(customer, "Llamada atrasada", today - 30 * day, owner)
    task(customer, "Visita", today + 2 * day, owner, due_time=datetime.time(9, 30))
    task(customer, "Demasiado antigua", today - 31 * day, owner)
    task(customer, "Hecha", today, owner, done_at=timezone.now())
    task(customer, "De Tomás", today, teammate)
    Reminder.objects.create(user=owner, customer=customer, kind="review", due_date=today, key="r")
    Reminder.objects.create(
        user=owner, customer=customer, kind="follow_up", due_date=today, key="f",
        done_at=timezone.now(),
    )  # fmt: skip
    Reminder.objects.create(
        user=teammate, customer=customer, kind="anniversary", due_date=today, key="a"
    )
    _feed, key = calendar.issue_feed(user=owner)

    # when a calendar application reads olga's address, with no session
    found = events(read(key))

    # then it holds her two open tasks from 30 days ago on, and her pending reminder
    assert set(found) == {
        "Llamada atrasada · Ferretería Núñez",
        "Visita · Ferretería Núñez",
        "Review the data of Ferretería Núñez",
    }
    late = found["Llamada atrasada · Ferretería Núñez"]
    # an all-day event on its date
    assert late["DTSTART"].dt == today - 30 * day
    assert not isinstance(late["DTSTART"].dt, datetime.datetime)
    assert late["URL"] == f"https://crm.example.com/customers/{customer.pk}/"
    # a timed event at 09:30 in the site's time zone
    visit = found["Visita · Ferretería Núñez"]
    start = visit["DTSTART"].dt
    assert isinstance(start, datetime.datetime)
    assert start.astimezone(ZoneInfo("Europe/Madrid")).replace(tzinfo=None) == (
        datetime.datetime.combine(today + 2 * day, datetime.time(9, 30))
    )
    assert visit["DTEND"].dt - start == datetime.timedelta(minutes=30)
    for event in found.values():
        assert "DTSTAMP" in event


def test_uids_are_stable_between_reads(owner: User) -> None:
    customer = make_lead(owner, "Cliente")
    made = task(customer, "Llamar", timezone.localdate(), owner)
    _feed, key = calendar.issue_feed(user=owner)

    first = [str(e["UID"]) for e in read(key).walk("VEVENT")]
    second = [str(e["UID"]) for e in read(key).walk("VEVENT")]

    assert first == second == [f"task-{made.pk}@crm.example.com"]


def test_long_subject_with_commas_and_accents_is_escaped_and_folded(owner: User) -> None:
    # given a task whose subject and description need escaping and folding
    subject = (
        "Renovación del contrato, revisión de tarifas; descuentos \\ volumen, "
        "llamar a Begoña Muñoz-Ibáñez antes del cierre trimestral, sin falta ñ€漢"
    )
    customer = make_lead(owner, "Comercial Añil, S.L.")
    task(
        customer, subject, timezone.localdate(), owner,
        description="Primera línea,\nsegunda; línea\r\ntercera",
    )  # fmt: skip
    _feed, key = calendar.issue_feed(user=owner)
    raw = Client().get(f"/calendar/{key}.ics").content

    # then every line ends in CRLF and none is longer than 75 octets
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # the summary was folded
    text = raw.decode()
    assert (
        "Renovación del contrato\\, revisión de tarifas\\; descuentos \\\\ volumen"
        in text.replace("\r\n ", "")
    )
    # and read back, the values are exactly what was written
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"{subject} · Comercial Añil, S.L."
    assert "Primera línea,\nsegunda; línea\ntercera" in str(event["DESCRIPTION"])


def test_fold_never_splits_a_character() -> None:
    line = "SUMMARY:" + "ñ" * 100
    folded = calendar.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_escape_text() -> None:
    assert calendar.escape_text("a,b;c\\d\r\ne\nf\x00") == "a\\,b\\;c\\\\d\\ne\\nf"


# --- Keys: wrong, revoked, replaced, no session --------------------------------------------------


def test_wrong_key_is_not_found(owner: User) -> None:
    calendar.issue_feed(user=owner)
    for key in ("cal_nope", "nope", "cal_" + "x" * 43, "x" * 200):
        assert Client().get(f"/calendar/{key}.ics").status_code == 404


def test_only_a_hash_of_the_key_is_stored(owner: User) -> None:
    feed, key = calendar.issue_feed(user=owner)
    assert key not in feed.key_hash
    assert feed.key_hash == calendar.hash_key(key)
    assert len(feed.key_hash) == 64


def test_revoked_and_replaced_keys_stop_working(owner: User) -> None:
    _feed, first = calendar.issue_feed(user=owner)
    assert Client().get(f"/calendar/{first}.ics").status_code == 200

    # a new address replaces the old one
    _feed, second = calendar.issue_feed(user=owner)
    assert Client().get(f"/calendar/{first}.ics").status_code == 404
    assert Client().get(f"/calendar/{second}.ics").status_code == 200
    assert CalendarFeed.objects.filter(user=owner).count() == 1

    # revoked, it stops working
    assert calendar.revoke_feed(user=owner) is True
    assert Client().get(f"/calendar/{second}.ics").status_code == 404


def test_a_deactivated_users_feed_stops_working(owner: User) -> None:
    _feed, key = calendar.issue_feed(user=owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert Client().get(f"/calendar/{key}.ics").status_code == 404


def test_the_feed_is_read_only_and_private_to_caches(owner: User) -> None:
    _feed, key = calendar.issue_feed(user=owner)
    response = Client().get(f"/calendar/{key}.ics")
    assert response["Cache-Control"] == "private, no-store"
    assert "sessionid" not in response.cookies
    assert Client().post(f"/calendar/{key}.ics").status_code == 405
    assert Client().head(f"/calendar/{key}.ics").status_code == 200


def test_feed_is_rate_limited(owner: User, settings: Any) -> None:
    settings.CARTERA_CALENDAR_RATE = "2/minute"
    settings.CARTERA_API_ANON_RATE = "3/minute"
    _feed, key = calendar.issue_feed(user=owner)
    statuses = [Client().get(f"/calendar/{key}.ics").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # guessing keys from one address is slowed down too
    guesses = [Client().get(f"/calendar/cal_{n}.ics").status_code for n in range(4)]
    assert guesses == [404, 404, 404, 429]


def test_the_feed_runs_a_fixed_number_of_queries(
    owner: User, django_assert_num_queries: Any
) -> None:
    today = timezone.localdate()
    for n in range(5):
        customer = make_lead(owner, f"Cliente {n}")
        task(customer, f"Tarea {n}", today, owner)
        Reminder.objects.create(
            user=owner, customer=customer, kind="review", due_date=today, key=f"r{n}"
        )
    _feed, key = calendar.issue_feed(user=owner)
    client = Client()
    with django_assert_num_queries(3):
        response = client.get(f"/calendar/{key}.ics")
    assert response.content.count(b"BEGIN:VEVENT") == 10


# --- The settings page ---------------------------------------------------------------------------


def test_create_show_once_and_revoke_from_the_page(owner: User) -> None:
    client = client_for(owner)
    page = client.get("/accounts/calendar/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b'name="action" value="create"' in page.content
    assert b'id="calendar-url"' not in page.content

    # when olga creates her address
    response = client.post("/accounts/calendar/", {"action": "create"})
    assert response.status_code == 302
    shown = client.get("/accounts/calendar/").content.decode()

    # then the page shows it once, and it works
    match = re.search(r">(https://crm\.example\.com/calendar/(cal_[\w-]+)\.ics)</textarea>", shown)
    assert match is not None
    key = match.group(2)
    assert Client().get(f"/calendar/{key}.ics").status_code == 200
    assert key not in client.get("/accounts/calendar/").content.decode()

    # when she revokes it, it stops working
    client.post("/accounts/calendar/", {"action": "revoke"})
    assert not CalendarFeed.objects.filter(user=owner).exists()
    assert Client().get(f"/calendar/{key}.ics").status_code == 404


def test_digest_toggle_changes_only_ones_own_setting(owner: User, teammate: User) -> None:
    client = client_for(owner)
    client.post("/accounts/calendar/", {"action": "digest"})  # the box unticked
    owner.refresh_from_db()
    teammate.refresh_from_db()
    assert owner.digest_enabled is False
    assert teammate.digest_enabled is True
    client.post("/accounts/calendar/", {"action": "digest", "digest_enabled": "on"})
    owner.refresh_from_db()
    assert owner.digest_enabled is True


def test_a_wrong_action_is_refused_and_changes_nothing(owner: User) -> None:
    response = client_for(owner).post("/accounts/calendar/", {"action": "everything"})
    assert response.status_code == 422
    assert not CalendarFeed.objects.exists()


def test_the_page_needs_a_login() -> None:
    response = Client().get("/accounts/calendar/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
