"""Reminders: what a salesperson should know today about their customers.

The daily job (``generate_reminders``) finds, in a handful of queries whatever the size of
the portfolio, the birthdays of contacts, the anniversaries of clients, the data reviews
that are due and the customers on follow-up with nothing planned, and writes one reminder
for each to the customer's owner. Each reminder has a ``key`` naming its occasion (the
contact and the year of a birthday, the customer and the week of a follow-up…), unique in
the table: running the job twice, or on a day it already ran, adds nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cartera.accounts.models import User
from cartera.activities.models import Reminder, ReminderKind, Task
from cartera.activities.services import ActivityInvalid
from cartera.core.dates import add_months
from cartera.core.jobs import job
from cartera.core.models import Company
from cartera.customers.models import Contact, Customer, Stage, among

BATCH_SIZE = 1000
MAX_SNOOZE_DAYS = 365


# --- Who gets reminders -------------------------------------------------------------------------


def _customers() -> QuerySet[Customer]:
    """Customers that get reminders: not archived, not blocked, owned by an active user."""
    return Customer.objects.filter(
        archived_at__isnull=True, blocked_at__isnull=True, owner__is_active=True
    )


def _open_reminder(kind: str) -> Exists:
    """An open (not done) reminder of this kind for the customer of the outer query."""
    return Exists(Reminder.objects.filter(customer=OuterRef("pk"), kind=kind, done_at__isnull=True))


def _same_day(field: str, today: datetime.date) -> Q:
    """``field`` (a date) falls on today's month and day; 29 February counts on the 28th
    in years without it."""
    condition = Q(**{f"{field}__month": today.month, f"{field}__day": today.day})
    if today.month == 2 and today.day == 28 and not _is_leap(today.year):
        condition |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return condition


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _review_window(today: datetime.date, months: int) -> int:
    """The number of the review period ``today`` is in (periods of ``months`` from year 0)."""
    return (today.year * 12 + today.month - 1) // months


# --- The daily job -------------------------------------------------------------------------------


def _insert(rows: Iterable[Reminder]) -> int:
    """Insert in batches; rows whose key exists already are skipped by the database."""
    count = 0
    batch: list[Reminder] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            Reminder.objects.bulk_create(batch, ignore_conflicts=True)
            count += len(batch)
            batch = []
    if batch:
        Reminder.objects.bulk_create(batch, ignore_conflicts=True)
        count += len(batch)
    return count


def _birthdays(today: datetime.date) -> Iterator[Reminder]:
    contacts = (
        Contact.objects.filter(_same_day("birthday", today), customer__in=_customers())
        .values_list("pk", "customer_id", "customer__owner_id")
        .order_by("pk")
    )
    for contact_id, customer_id, owner_id in contacts.iterator(chunk_size=BATCH_SIZE):
        yield Reminder(
            user_id=owner_id,
            customer_id=customer_id,
            contact_id=contact_id,
            kind=ReminderKind.BIRTHDAY,
            due_date=today,
            key=f"birthday:{contact_id}:{today.year}",
        )


def _for_owners(
    customers: QuerySet[Customer], kind: str, today: datetime.date, key: str
) -> Iterator[Reminder]:
    """A reminder of ``kind`` for each customer's owner, due today; ``key`` is a format with
    ``{customer}`` (one reminder per key, ever)."""
    rows = customers.values_list("pk", "owner_id").order_by("pk")
    for customer_id, owner_id in rows.iterator(chunk_size=BATCH_SIZE):
        yield Reminder(
            user_id=owner_id,
            customer_id=customer_id,
            kind=kind,
            due_date=today,
            key=key.format(customer=customer_id),
        )


def _anniversaries(today: datetime.date) -> Iterator[Reminder]:
    customers = (
        _customers()
        .filter(_same_day("client_since", today), stage=Stage.CLIENT)
        .filter(client_since__year__lt=today.year)
    )
    key = f"anniversary:{{customer}}:{today.year}"
    return _for_owners(customers, ReminderKind.ANNIVERSARY, today, key)


def _reviews(today: datetime.date, months: int) -> Iterator[Reminder]:
    # Due when never reviewed or reviewed before the start of today, ``months`` ago.
    start = add_months(today, -months)
    limit = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    window = _review_window(today, months)
    customers = (
        _customers()
        .filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=limit))
        .exclude(_open_reminder(ReminderKind.REVIEW))
    )
    key = f"review:{{customer}}:{months}m{window}"
    return _for_owners(customers, ReminderKind.REVIEW, today, key)


def _follow_ups(today: datetime.date) -> Iterator[Reminder]:
    year, week, _weekday = today.isocalendar()
    open_task = Exists(Task.objects.filter(customer=OuterRef("pk"), done_at__isnull=True))
    customers = (
        _customers()
        .filter(follow_up=True)
        .exclude(open_task)
        .exclude(_open_reminder(ReminderKind.FOLLOW_UP))
    )
    key = f"follow_up:{{customer}}:{year}-W{week:02d}"
    return _for_owners(customers, ReminderKind.FOLLOW_UP, today, key)


def generate_reminders(today: datetime.date) -> dict[str, int]:
    """Write today's reminders for every customer's owner; safe to run more than once a day.

    - birthday: a contact's birthday is today (29 February: on the 28th in other years);
    - anniversary: a client became one on this day, at least a year ago;
    - review: the customer's data was never reviewed or not within the company's review
      period; one per customer and period, and none while one is still open;
    - follow_up: the customer is on follow-up with no open task; one a week at most, and
      none while one is still open.

    Archived and blocked customers, and customers of deactivated users, get none. Returns
    how many candidates each kind had (those that existed already are skipped).
    """
    months = Company.load().review_period_months
    return {
        ReminderKind.BIRTHDAY: _insert(_birthdays(today)),
        ReminderKind.ANNIVERSARY: _insert(_anniversaries(today)),
        ReminderKind.REVIEW: _insert(_reviews(today, months)),
        ReminderKind.FOLLOW_UP: _insert(_follow_ups(today)),
    }


def create_pre_inactive_reminders(customer_ids: Iterable[int], today: datetime.date) -> int:
    """Remind the owners of customers whose purchases are turning pre-inactive.

    Called by the job that recomputes purchase activity, with the customers that moved to
    ``pre_inactive``. A customer gets at most one such reminder a month, and none while an
    earlier one is still open; archived and blocked customers get none.
    """
    ids = sorted(set(customer_ids))
    count = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        # Open reminders are looked up by customer, not joined: the job inserts many at once,
        # and a plan made before they were there would scan them all for every customer.
        reminded = set(
            Reminder.objects.filter(
                customer_id__in=batch, kind=ReminderKind.PRE_INACTIVE, done_at__isnull=True
            ).values_list("customer_id", flat=True)
        )
        customers = _customers().filter(pk__in=batch).order_by().values_list("pk", "owner_id")
        count += _insert(
            Reminder(
                user_id=owner_id,
                customer_id=customer_id,
                kind=ReminderKind.PRE_INACTIVE,
                due_date=today,
                key=f"pre_inactive:{customer_id}:{today:%Y-%m}",
            )
            for customer_id, owner_id in customers
            if customer_id not in reminded
        )
    return count


@job(attempts=3)
def generate_reminders_job() -> dict[str, int]:
    """The daily job: today's reminders (registered to run at 06:00)."""
    return {str(kind): n for kind, n in generate_reminders(timezone.localdate()).items()}


# --- Reading and acting on reminders -------------------------------------------------------------


def pending_reminders(user: User, today: datetime.date) -> QuerySet[Reminder]:
    """The user's reminders to see today: due, not done, not snoozed past today, of
    customers they still see and that are not archived."""
    return (
        Reminder.objects.filter(user=user, done_at__isnull=True, due_date__lte=today)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        .filter(among(Customer.objects.visible_to(user).current()))
        .select_related("customer", "contact")
        .order_by("due_date", "id")
    )


def describe(reminder: Reminder) -> str:
    """One line saying what the reminder is about, in the active language."""
    customer = reminder.customer.display_name
    kind = reminder.kind
    if kind == ReminderKind.BIRTHDAY:
        contact = reminder.contact.full_name if reminder.contact else customer
        return _("Birthday of %(contact)s (%(customer)s)") % {
            "contact": contact,
            "customer": customer,
        }
    if kind == ReminderKind.ANNIVERSARY:
        since = reminder.customer.client_since
        years = reminder.due_date.year - since.year if since else 0
        return ngettext(
            "%(customer)s: %(years)s year as a client",
            "%(customer)s: %(years)s years as a client",
            years,
        ) % {"customer": customer, "years": years}
    if kind == ReminderKind.REVIEW:
        return _("Review the data of %(customer)s") % {"customer": customer}
    if kind == ReminderKind.FOLLOW_UP:
        return _("Follow up %(customer)s: no task is planned") % {"customer": customer}
    if kind == ReminderKind.PRE_INACTIVE:
        return _("%(customer)s is turning pre-inactive: no recent purchases") % {
            "customer": customer
        }
    return f"{reminder.get_kind_display()}: {customer}"


def _own_reminder(reminder: Reminder | int, by: User) -> Reminder:
    """The reminder, locked, if it is ``by``'s; anyone else is refused."""
    pk = reminder if isinstance(reminder, int) else reminder.pk
    found = Reminder.objects.select_for_update().filter(pk=pk, user=by).first()
    if found is None or not by.is_active:
        raise PermissionDenied
    return found


@transaction.atomic
def complete_reminder(*, reminder: Reminder | int, by: User) -> Reminder:
    """Mark one's own reminder done (doing it twice changes nothing)."""
    found = _own_reminder(reminder, by)
    if found.done_at is None:
        found.done_at = timezone.now()
        found.save(update_fields=["done_at"])
    return found


@transaction.atomic
def snooze_reminder(
    *, reminder: Reminder | int, by: User, until: Any, today: datetime.date | None = None
) -> Reminder:
    """Put one's own reminder off until a later date (at most a year ahead)."""
    found = _own_reminder(reminder, by)
    today = today or timezone.localdate()
    if not isinstance(until, datetime.date) or isinstance(until, datetime.datetime):
        raise ActivityInvalid({"snoozed_until": [_("Enter a valid date.")]})
    if until <= today:
        raise ActivityInvalid({"snoozed_until": [_("Choose a date after today.")]})
    if until > today + datetime.timedelta(days=MAX_SNOOZE_DAYS):
        raise ActivityInvalid({"snoozed_until": [_("Choose a date within a year.")]})
    found.snoozed_until = until
    found.save(update_fields=["snoozed_until"])
    return found
