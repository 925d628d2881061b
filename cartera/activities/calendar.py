"""A user's private calendar feed: their open tasks and pending reminders as iCalendar.

Calendar applications cannot log in, so the feed's address carries a secret key. Only a
SHA-256 hash of it is stored (like API tokens): the address is shown once, when made, and
a new one replaces it. The iCalendar text (RFC 5545) is written here: CRLF line ends,
lines folded at 75 octets, TEXT values escaped.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.activities.digest import absolute_url, customer_url
from cartera.activities.models import CalendarFeed, Priority, Reminder, Task
from cartera.activities.reminders import describe
from cartera.customers.models import Customer, among

KEY_PREFIX = "cal_"
# Tasks this many days old or newer are in the feed (older ones are history).
PAST_DAYS = 30
# A task with a time lasts this long in the calendar.
TASK_DURATION = datetime.timedelta(minutes=30)
MAX_OCTETS = 75
CRLF = "\r\n"


# --- The feed's key --------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_feed(*, user: User) -> tuple[CalendarFeed, str]:
    """Give the user a new feed address; an earlier one stops working. Returns the key,
    which is not kept and cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    CalendarFeed.objects.filter(user=user).delete()
    feed = CalendarFeed.objects.create(user=user, key_hash=hash_key(key))
    return feed, key


def revoke_feed(*, user: User) -> bool:
    """Stop the user's feed address from working; False when there was none."""
    deleted, _rows = CalendarFeed.objects.filter(user=user).delete()
    return deleted > 0


def feed_owner(key: str) -> User | None:
    """The active user whose feed has this key, or None (unknown, revoked, deactivated)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(key_hash=hash_key(key), user__is_active=True)
        .first()
    )
    return feed.user if feed is not None else None


def feed_url(key: str) -> str:
    return absolute_url(reverse("calendar:feed", args=[key]))


# --- iCalendar text (RFC 5545) -----------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # Other control characters are not allowed in a content line (section 3.1).
    value = "".join(c for c in value if c in "\n\t" or (ord(c) >= 32 and c != "\x7f"))
    return value.replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded so that no line is longer than 75 octets (section 3.1).

    Continuation lines start with a space; a UTF-8 character is never split.
    """
    parts: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            parts.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += char
        size += octets
    parts.append(current)
    return (CRLF + " ").join(parts)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _date(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def _event(
    *,
    uid: str,
    stamp: datetime.datetime,
    summary: str,
    description: str,
    url: str,
    day: datetime.date,
    at: datetime.time | None = None,
    categories: str = "",
    priority: int = 0,
) -> list[str]:
    """The lines of one VEVENT: all-day without a time, else a timed event in UTC."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{_utc(stamp)}"]
    if at is None:
        lines.append(f"DTSTART;VALUE=DATE:{_date(day)}")
        lines.append(f"DTEND;VALUE=DATE:{_date(day + datetime.timedelta(days=1))}")
    else:
        start = timezone.make_aware(datetime.datetime.combine(day, at))
        lines.append(f"DTSTART:{_utc(start)}")
        lines.append(f"DTEND:{_utc(start + TASK_DURATION)}")
    lines.append(f"SUMMARY:{escape_text(summary)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if categories:
        lines.append(f"CATEGORIES:{escape_text(categories)}")
    if priority:
        lines.append(f"PRIORITY:{priority}")
    lines.append(f"URL:{url}")
    lines.append("TRANSP:TRANSPARENT")
    lines.append("END:VEVENT")
    return lines


_PRIORITY = {Priority.HIGH: 1, Priority.NORMAL: 5, Priority.LOW: 9}


def _task_lines(task: Task, *, host: str, stamp: datetime.datetime) -> list[str]:
    customer = task.customer.display_name
    details = [f"{task.get_type_display()} · {customer}"]
    if task.contact is not None:
        details.append(_("Contact: %(name)s") % {"name": task.contact.full_name})
    if task.description:
        details.append(task.description)
    return _event(
        uid=f"task-{task.pk}@{host}",
        stamp=stamp,
        summary=f"{task.subject} · {customer}",
        description="\n".join(details),
        url=customer_url(task.customer_id),
        day=task.due_date,
        at=task.due_time,
        categories=task.get_type_display(),
        priority=_PRIORITY.get(Priority(task.priority), 0),
    )


def _reminder_lines(reminder: Reminder, *, host: str, stamp: datetime.datetime) -> list[str]:
    day = max(reminder.due_date, reminder.snoozed_until or reminder.due_date)
    return _event(
        uid=f"reminder-{reminder.pk}@{host}",
        stamp=stamp,
        summary=describe(reminder),
        description=f"{reminder.get_kind_display()} · {reminder.customer.display_name}",
        url=customer_url(reminder.customer_id),
        day=day,
        categories=_("Reminder"),
    )


def feed_tasks(user: User, today: datetime.date) -> Iterable[Task]:
    """The user's own open tasks from PAST_DAYS ago onwards, of customers they see."""
    return (
        Task.objects.visible_to(user)
        .open()
        .filter(assignee=user, due_date__gte=today - datetime.timedelta(days=PAST_DAYS))
        .select_related("customer", "contact")
        .order_by("due_date", "due_time", "id")
    )


def feed_reminders(user: User, today: datetime.date) -> Iterable[Reminder]:
    """The user's reminders not done, dated (or snoozed to) PAST_DAYS ago onwards."""
    since = today - datetime.timedelta(days=PAST_DAYS)
    return (
        Reminder.objects.filter(user=user, done_at__isnull=True)
        .filter(Q(due_date__gte=since) | Q(snoozed_until__gte=since))
        .filter(among(Customer.objects.visible_to(user).current()))
        .select_related("customer", "contact")
        .order_by("due_date", "id")
    )


def build_calendar(user: User, today: datetime.date) -> str:
    """The user's feed as iCalendar text, in their language (three queries at most)."""
    host = urlsplit(settings.CARTERA_BASE_URL).hostname or "cartera"
    stamp = timezone.now()
    with translation.override(user.language or settings.LANGUAGE_CODE):
        name = _("Cartera: %(user)s") % {"user": str(user)}
        events: list[str] = []
        for task in feed_tasks(user, today):
            events += _task_lines(task, host=host, stamp=stamp)
        for reminder in feed_reminders(user, today):
            events += _reminder_lines(reminder, host=host, stamp=stamp)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cartera//Cartera calendar feed//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{settings.TIME_ZONE}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        *events,
        "END:VCALENDAR",
    ]
    return "".join(_folded(lines))


def _folded(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield fold(line) + CRLF
