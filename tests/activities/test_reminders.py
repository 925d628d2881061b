"""The daily reminders: exactly who gets what, once; and only the recipient acts on them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cartera.accounts.models import User
from cartera.activities.models import Reminder, Task
from cartera.activities.reminders import (
    complete_reminder,
    create_pre_inactive_reminders,
    describe,
    generate_reminders,
    generate_reminders_job,
    pending_reminders,
    snooze_reminder,
)
from cartera.activities.services import ActivityInvalid
from cartera.core.models import Company
from cartera.customers.models import Contact, Customer
from tests.conftest import make_customer as _make_customer
from tests.conftest import make_lead, valid_cif

TODAY = datetime.date(2026, 3, 10)
pytestmark = pytest.mark.django_db

_numbers = iter(range(1000, 100_000))


def make_customer(by: User, **overrides: Any) -> Customer:
    """A client with its own tax id, reviewed today (so no review reminder by default)."""
    client_since = overrides.pop("client_since", None)
    customer = _make_customer(by, tax_id=valid_cif(next(_numbers)), **overrides)
    Customer.objects.filter(pk=customer.pk).update(
        reviewed_at=_at(TODAY), client_since=client_since
    )
    customer.refresh_from_db()
    return customer


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def contact(customer: Customer, name: str, birthday: datetime.date | None) -> Contact:
    return Contact.objects.create(customer=customer, first_name=name, birthday=birthday)


def keys(**filters: Any) -> set[tuple[str, int, int, int | None]]:
    """(kind, user, customer, contact) of the reminders there are."""
    return set(
        Reminder.objects.filter(**filters).values_list(
            "kind", "user_id", "customer_id", "contact_id"
        )
    )


# --- Birthdays ---------------------------------------------------------------------------------


def test_birthday_today_reminds_the_owner_and_tomorrow_does_not(
    owner: User, teammate: User
) -> None:
    # given a customer of olga's created by tomás, with contacts born today, tomorrow, none
    customer = make_customer(teammate)
    Customer.objects.filter(pk=customer.pk).update(owner=owner)
    today = contact(customer, "Hoy", datetime.date(1980, 3, 10))
    contact(customer, "Mañana", datetime.date(1980, 3, 11))
    contact(customer, "Sin fecha", None)

    # when the daily job runs
    generate_reminders(TODAY)

    # then olga (the owner, not the creator) has exactly one: today's birthday
    assert keys() == {("birthday", owner.pk, customer.pk, today.pk)}


def test_february_29_birthdays_are_remembered_on_the_28th_in_other_years(owner: User) -> None:
    customer = make_customer(owner)
    leap = contact(customer, "Bisiesto", datetime.date(1992, 2, 29))
    born_28 = contact(customer, "Veintiocho", datetime.date(1990, 2, 28))

    # on 28 February 2027 (no 29th) both; on 28 February 2028 (a leap year) only the 28th's
    generate_reminders(datetime.date(2027, 2, 28))
    assert {c for *_, c in keys(kind="birthday")} == {leap.pk, born_28.pk}
    Reminder.objects.all().delete()
    generate_reminders(datetime.date(2028, 2, 28))
    assert {c for *_, c in keys(kind="birthday")} == {born_28.pk}
    generate_reminders(datetime.date(2028, 2, 29))
    assert {c for *_, c in keys(due_date=datetime.date(2028, 2, 29))} == {leap.pk}


# --- Anniversaries -----------------------------------------------------------------------------


def test_client_anniversary_a_year_or_more_ago(owner: User) -> None:
    # given clients since today's date in 2020 and in 2026 (today), and since another day
    old = make_customer(owner, client_since=datetime.date(2020, 3, 10))
    make_customer(owner, client_since=TODAY)
    make_customer(owner, client_since=datetime.date(2020, 3, 11))

    # when the job runs, then only the six-year anniversary is remembered
    generate_reminders(TODAY)
    assert keys() == {("anniversary", owner.pk, old.pk, None)}
    with_language = Reminder.objects.select_related("customer", "contact").get()
    from django.utils import translation

    with translation.override("en"):
        assert describe(with_language) == f"{old.display_name}: 6 years as a client"


# --- Data review -------------------------------------------------------------------------------


def test_review_due_when_never_reviewed_or_older_than_the_period(owner: User) -> None:
    # given a 6-month review period and customers reviewed at different times
    company = Company.load()
    assert company.review_period_months == 6
    never = make_customer(owner)
    stale = make_customer(owner)
    fresh = make_customer(owner)
    Customer.objects.filter(pk=never.pk).update(reviewed_at=None)
    Customer.objects.filter(pk=stale.pk).update(reviewed_at=_at(datetime.date(2025, 9, 9)))
    Customer.objects.filter(pk=fresh.pk).update(reviewed_at=_at(datetime.date(2025, 9, 10)))

    # when the job runs on 10 March 2026
    generate_reminders(TODAY)

    # then the never-reviewed and the stale one are due; the one reviewed 6 months ago is not
    assert keys(kind="review") == {
        ("review", owner.pk, never.pk, None),
        ("review", owner.pk, stale.pk, None),
    }


def test_review_reminder_once_per_period_not_once_per_day(owner: User) -> None:
    # given a customer never reviewed, reminded today
    customer = make_customer(owner)
    Customer.objects.filter(pk=customer.pk).update(reviewed_at=None)
    generate_reminders(TODAY)

    # when the job runs every day of the following weeks, the first one still open or done
    for day in range(1, 20):
        generate_reminders(TODAY + datetime.timedelta(days=day))
    Reminder.objects.update(done_at=timezone.now())
    generate_reminders(TODAY + datetime.timedelta(days=20))

    # then there is one review reminder
    assert Reminder.objects.filter(kind="review").count() == 1

    # and the next period, still not reviewed and the first one done, brings another
    generate_reminders(datetime.date(2026, 7, 1))
    assert Reminder.objects.filter(kind="review").count() == 2


def test_review_period_follows_the_company_setting(owner: User) -> None:
    customer = make_customer(owner)
    Customer.objects.filter(pk=customer.pk).update(reviewed_at=_at(datetime.date(2026, 1, 5)))
    company = Company.load()
    company.review_period_months = 2
    company.save()

    generate_reminders(TODAY)

    assert keys() == {("review", owner.pk, customer.pk, None)}


# --- Follow-up ---------------------------------------------------------------------------------


def test_follow_up_without_an_open_task_once_a_week(owner: User, teammate: User) -> None:
    # given three customers on follow-up: one with an open task (tomás's), one with only a
    # done task, one with nothing; and one not on follow-up
    planned = make_customer(owner, follow_up=True)
    done_only = make_customer(owner, follow_up=True)
    nothing = make_customer(owner, follow_up=True)
    make_customer(owner)
    for customer, done_at in ((planned, None), (done_only, timezone.now())):
        Task.objects.create(
            customer=customer, type="call", subject="Llamar", due_date=TODAY,
            assignee=teammate, done_at=done_at,
        )  # fmt: skip

    # when the job runs on Tuesday and again on Friday of the same week
    generate_reminders(TODAY)
    generate_reminders(TODAY + datetime.timedelta(days=3))

    # then one reminder for each customer with nothing open
    assert keys() == {
        ("follow_up", owner.pk, done_only.pk, None),
        ("follow_up", owner.pk, nothing.pk, None),
    }
    assert Reminder.objects.count() == 2

    # and the next week, those done, another each
    Reminder.objects.update(done_at=timezone.now())
    generate_reminders(TODAY + datetime.timedelta(days=7))
    assert Reminder.objects.count() == 4


# --- Exclusions, idempotence --------------------------------------------------------------------


def test_archived_blocked_and_deactivated_owners_customers_get_none(
    owner: User, teammate: User
) -> None:
    # given customers that would get every kind of reminder
    def everything(by: User) -> Customer:
        customer = make_customer(by, follow_up=True, client_since=datetime.date(2020, 3, 10))
        Customer.objects.filter(pk=customer.pk).update(reviewed_at=None)
        contact(customer, "Cumple", datetime.date(1980, 3, 10))
        return customer

    archived, blocked, kept = everything(owner), everything(owner), everything(owner)
    gone = everything(teammate)
    Customer.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    Customer.objects.filter(pk=blocked.pk).update(blocked_at=timezone.now())
    User.objects.filter(pk=teammate.pk).update(is_active=False)

    # when the job runs
    generate_reminders(TODAY)

    # then only the customer kept gets them, all four kinds
    assert {customer for _k, _u, customer, _c in keys()} == {kept.pk}
    assert {kind for kind, *_ in keys()} == {"birthday", "anniversary", "review", "follow_up"}
    assert gone.pk not in {customer for _k, _u, customer, _c in keys()}


def test_second_run_adds_nothing(owner: User) -> None:
    # given a day with one reminder of each kind
    customer = make_customer(owner, follow_up=True, client_since=datetime.date(2020, 3, 10))
    Customer.objects.filter(pk=customer.pk).update(reviewed_at=None)
    contact(customer, "Cumple", datetime.date(1980, 3, 10))
    generate_reminders(TODAY)
    first = list(Reminder.objects.order_by("pk").values_list("pk", "key"))
    assert len(first) == 4

    # when it runs again the same day
    counts = generate_reminders(TODAY)

    # then nothing changed (the candidates existed already)
    assert list(Reminder.objects.order_by("pk").values_list("pk", "key")) == first
    assert counts["birthday"] == 1


def test_the_job_runs_in_a_fixed_number_of_queries(
    owner: User, django_assert_max_num_queries: Any
) -> None:
    # given a few customers with birthdays and reviews due
    for n in range(5):
        customer = make_customer(owner, follow_up=True)
        Customer.objects.filter(pk=customer.pk).update(reviewed_at=None)
        contact(customer, f"C{n}", datetime.date(1980, 3, 10))

    # then the job does not run queries per customer
    with django_assert_max_num_queries(12):
        generate_reminders(TODAY)
    assert Reminder.objects.count() == 15


def test_pre_inactive_reminders_for_the_customers_given(owner: User) -> None:
    # given two customers turning pre-inactive and an archived one
    first, second, archived = make_customer(owner), make_customer(owner), make_customer(owner)
    Customer.objects.filter(pk=archived.pk).update(archived_at=timezone.now())

    # when the activity job reports them, twice in the month
    create_pre_inactive_reminders([first.pk, second.pk, archived.pk], TODAY)
    create_pre_inactive_reminders([first.pk], TODAY + datetime.timedelta(days=5))

    # then one each for the owner, none for the archived one
    assert keys() == {
        ("pre_inactive", owner.pk, first.pk, None),
        ("pre_inactive", owner.pk, second.pk, None),
    }


def test_no_pre_inactive_reminder_while_one_is_open(owner: User) -> None:
    # given a customer reminded this month, and its reminder still open next month
    customer = make_customer(owner)
    create_pre_inactive_reminders([customer.pk], TODAY)
    next_month = TODAY + datetime.timedelta(days=40)

    # when the job reports it again, then nothing new is created
    assert create_pre_inactive_reminders([customer.pk], next_month) == 0

    # once that reminder is done, the next report reminds the owner again
    Reminder.objects.update(done_at=timezone.now())
    assert create_pre_inactive_reminders([customer.pk], next_month) == 1
    assert Reminder.objects.filter(customer=customer, done_at__isnull=True).get().due_date == (
        next_month
    )


# --- Done and snoozed ---------------------------------------------------------------------------


@pytest.fixture
def reminder(owner: User) -> Reminder:
    customer = make_lead(owner, "Cumpleañera")
    person = contact(customer, "Lola", datetime.date(1980, 3, 10))
    generate_reminders(TODAY)
    return Reminder.objects.get(contact=person)


def test_only_the_recipient_marks_a_reminder_done(
    reminder: Reminder, owner: User, teammate: User, manager: User, admin_user: User
) -> None:
    # when anyone else tries, they are refused and nothing changes
    for other in (teammate, manager, admin_user):
        with pytest.raises(PermissionDenied):
            complete_reminder(reminder=reminder, by=other)
    reminder.refresh_from_db()
    assert reminder.done_at is None

    # when olga marks it done, it is done and no longer pending
    complete_reminder(reminder=reminder.pk, by=owner)
    reminder.refresh_from_db()
    assert reminder.done_at is not None
    assert list(pending_reminders(owner, TODAY)) == []


def test_snoozing_hides_a_reminder_until_its_date(
    reminder: Reminder, owner: User, teammate: User
) -> None:
    later = TODAY + datetime.timedelta(days=3)
    # another user cannot
    with pytest.raises(PermissionDenied):
        snooze_reminder(reminder=reminder, by=teammate, until=later, today=TODAY)

    # olga can: it is gone until the 13th, back on the 13th
    snooze_reminder(reminder=reminder, by=owner, until=later, today=TODAY)
    assert list(pending_reminders(owner, TODAY)) == []
    assert list(pending_reminders(owner, later - datetime.timedelta(days=1))) == []
    assert list(pending_reminders(owner, later)) == [reminder]


@pytest.mark.parametrize(
    "until", [TODAY, TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=400), "x"]
)
def test_snoozing_to_a_wrong_date_is_refused_and_changes_nothing(
    reminder: Reminder, owner: User, until: Any
) -> None:
    with pytest.raises(ActivityInvalid) as refused:
        snooze_reminder(reminder=reminder, by=owner, until=until, today=TODAY)
    assert list(refused.value.messages_by_field) == ["snoozed_until"]
    reminder.refresh_from_db()
    assert reminder.snoozed_until is None


def test_pending_reminders_leave_out_customers_the_user_no_longer_sees(
    reminder: Reminder, owner: User, outsider: User, team_visibility: Company
) -> None:
    # given the customer handed to a salesperson of another team
    Customer.objects.filter(pk=reminder.customer_id).update(owner=outsider)
    # then olga's reminder is not shown to her any more
    assert list(pending_reminders(owner, TODAY)) == []


def test_the_daily_job_runs_for_today(owner: User) -> None:
    # given a contact born on today's date
    today = timezone.localdate()
    customer = make_customer(owner)
    contact(customer, "Hoy", datetime.date(1980, today.month, min(today.day, 28)))

    # when the worker runs the job (its result is stored as JSON)
    result = generate_reminders_job.call()

    # then it reports each kind, and wrote today's reminders
    assert set(result) == {"birthday", "anniversary", "review", "follow_up"}
    assert Reminder.objects.filter(due_date=today, kind="birthday").count() == (
        1 if today.day <= 28 else 0
    )
