"""The daily e-mail digest: each user's tasks due today and overdue, and their reminders.

Sent each morning by the worker to every active user who has an e-mail address, has not
turned the digest off and has something due; users with nothing due get no e-mail. Each
one is written in the user's language, as plain text with an HTML alternative, and its
links point at ``CARTERA_BASE_URL``.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.activities.models import Reminder, Task
from cartera.activities.reminders import describe, pending_reminders
from cartera.core.jobs import job
from cartera.core.models import ScheduledRun

logger = logging.getLogger(__name__)

# A digest lists at most this many tasks and reminders each; the rest are in Cartera.
MAX_ITEMS = 100


def absolute_url(path: str) -> str:
    """The address of a page of Cartera for links that leave it (e-mails, calendars)."""
    return f"{settings.CARTERA_BASE_URL.rstrip('/')}{path}"


def customer_url(customer_id: int) -> str:
    return absolute_url(reverse("customers:detail", args=[customer_id]))


@dataclass
class DigestItem:
    """One line of the digest."""

    title: str
    customer: str
    url: str
    date: datetime.date
    time: datetime.time | None = None
    detail: str = ""


@dataclass
class Digest:
    """What one user has to do today."""

    user: User
    today: datetime.date
    overdue: list[DigestItem] = field(default_factory=list)
    due_today: list[DigestItem] = field(default_factory=list)
    reminders: list[DigestItem] = field(default_factory=list)
    more: bool = False  # there was more than MAX_ITEMS of something

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.due_today or self.reminders)


def due_tasks(user: User, today: datetime.date) -> QuerySet[Task]:
    """The user's own open tasks due today or earlier, of customers they still see."""
    return (
        Task.objects.visible_to(user)
        .open()
        .filter(assignee=user, due_date__lte=today)
        .select_related("customer", "contact")
        .order_by("due_date", "due_time", "id")
    )


def digest_for(user: User, today: datetime.date) -> Digest:
    """The user's digest for ``today`` (two queries); titles in the active language."""
    digest = Digest(user=user, today=today)
    tasks = list(due_tasks(user, today)[: MAX_ITEMS + 1])
    reminders = list(pending_reminders(user, today)[: MAX_ITEMS + 1])
    digest.more = len(tasks) > MAX_ITEMS or len(reminders) > MAX_ITEMS
    for t in tasks[:MAX_ITEMS]:
        item = DigestItem(
            title=t.subject,
            customer=t.customer.display_name,
            url=customer_url(t.customer_id),
            date=t.due_date,
            time=t.due_time,
            detail=t.get_type_display(),
        )
        (digest.overdue if t.due_date < today else digest.due_today).append(item)
    digest.reminders = [_reminder_item(r) for r in reminders[:MAX_ITEMS]]
    return digest


def _reminder_item(reminder: Reminder) -> DigestItem:
    return DigestItem(
        title=describe(reminder),
        customer=reminder.customer.display_name,
        url=customer_url(reminder.customer_id),
        date=reminder.due_date,
        detail=reminder.get_kind_display(),
    )


def build_message(digest: Digest) -> EmailMultiAlternatives:
    """The e-mail of a digest (text and HTML), in the active language."""
    context = {
        "digest": digest,
        "user": digest.user,
        "today": digest.today,
        "home_url": absolute_url(reverse("core:home")),
        "settings_url": absolute_url(reverse("calendar:settings")),
    }
    subject = _("Your day in Cartera: %(date)s") % {
        "date": formats.date_format(digest.today, "DATE_FORMAT")
    }
    text = render_to_string("activities/email/digest.txt", context)
    html = render_to_string("activities/email/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[digest.user.email])
    message.attach_alternative(html, "text/html")
    return message


def recipients(today: datetime.date) -> QuerySet[User]:
    """Active users with an address and the digest on, who have a task or reminder due."""
    task_due = Task.objects.filter(assignee=OuterRef("pk"), done_at__isnull=True).filter(
        due_date__lte=today
    )
    reminder_due = Reminder.objects.filter(
        user=OuterRef("pk"), done_at__isnull=True, due_date__lte=today
    ).filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
    return (
        User.objects.filter(is_active=True, digest_enabled=True)
        .exclude(email="")
        .filter(Exists(task_due) | Exists(reminder_due))
        .order_by("pk")
    )


class DigestsNotSent(RuntimeError):
    """Some digests could not be sent: the job fails, so that it is retried and reported."""


def send_digests(today: datetime.date) -> int:
    """E-mail today's digest to everyone who has something due; returns how many were sent."""
    sent, _failed = _send_all(today)
    return sent


def _send_all(today: datetime.date) -> tuple[int, int]:
    """Send the day's digests once per user; a failure to send one (a refused address…) is
    logged, the others still go out, and a later run sends only the ones still owed."""
    sent = failed = 0
    with get_connection() as connection:
        for user in recipients(today):
            mark, first = ScheduledRun.objects.get_or_create(
                name=f"activities.digest:{user.pk}", period=today.isoformat()
            )
            if not first:
                continue  # already sent today
            language = user.language or settings.LANGUAGE_CODE
            with translation.override(language):
                digest = digest_for(user, today)
                if digest.is_empty:  # what was due belongs to customers they no longer see
                    continue
                message = build_message(digest)
            message.connection = connection
            try:
                message.send()
            except (smtplib.SMTPException, OSError):
                logger.exception("The daily digest to user %s could not be sent", user.pk)
                mark.delete()  # owed: a retry sends it
                failed += 1
                continue
            sent += 1
    return sent, failed


@job(attempts=4, backoff=datetime.timedelta(minutes=10))
def send_digests_job() -> int:
    """The daily job: the morning digest (registered to run at 07:00), retried while some
    could not be sent."""
    sent, failed = _send_all(timezone.localdate())
    if failed:
        raise DigestsNotSent(f"{failed} digests could not be sent ({sent} sent)")
    return sent
