"""Settings → Background jobs: recent runs, failures with their error, the periodic schedule."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.db.models import Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from cartera.core import jobs
from cartera.core.models import ScheduledRun
from cartera.core.pagination import BoundedPaginator
from cartera.core.permissions import admin_required

logger = logging.getLogger("cartera.jobs")

PAGE_SIZE = 50
# A due job still waiting after this long means no worker is running.
STALLED_AFTER = timedelta(minutes=5)
STATUSES = {
    "failed": (TaskResultStatus.FAILED, pgettext_lazy("jobs", "Failed")),
    "ready": (TaskResultStatus.READY, pgettext_lazy("jobs", "Waiting")),
    "running": (TaskResultStatus.RUNNING, pgettext_lazy("jobs", "Running")),
    "successful": (TaskResultStatus.SUCCESSFUL, pgettext_lazy("jobs", "Done")),
}
LABELS = {status: label for status, label in STATUSES.values()}
BADGES = {  # the colours of the customer stages: red, yellow, blue, green
    TaskResultStatus.FAILED: "stage-lost",
    TaskResultStatus.READY: "stage-prospect",
    TaskResultStatus.RUNNING: "stage-lead",
    TaskResultStatus.SUCCESSFUL: "stage-client",
}


@dataclass(frozen=True)
class JobRow:
    """One run as the page shows it."""

    id: str
    name: str
    status: str
    status_label: Any
    badge: str
    attempts: int
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_after: datetime | None
    error: str
    traceback: str

    @classmethod
    def of(cls, row: DBTaskResult) -> JobRow:
        module, _dot, function = row.task_path.rpartition(".")
        deferred = timezone.now() < row.run_after < get_date_max()
        waiting = row.status == TaskResultStatus.READY and deferred
        return cls(
            id=str(row.id),
            name=f"{module.removeprefix('cartera.')}.{function}" if module else function,
            status=row.status.lower(),
            status_label=LABELS.get(row.status, row.status),
            badge=BADGES.get(row.status, ""),
            attempts=len(row.worker_ids),
            enqueued_at=row.enqueued_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            run_after=row.run_after if waiting else None,
            # A job waiting for its next attempt still shows why the last one failed.
            error=last_line(row.traceback),
            traceback=row.traceback,
        )


def last_line(traceback: str) -> str:
    """The exception and its message: the last line of a traceback."""
    lines = [line for line in traceback.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@dataclass(frozen=True)
class ScheduleRow:
    name: str
    when: str
    last_enqueued: datetime | None
    next_run: datetime


def describe(periodic: jobs.Periodic) -> str:
    """How often a periodic job runs: "Every day at 07:00", "Every 15 minutes"."""
    if periodic.daily_at is not None:
        return _("Every day at %(time)s") % {"time": periodic.daily_at.strftime("%H:%M")}
    seconds = int(periodic.every.total_seconds()) if periodic.every else 0
    if seconds == 86400:
        return _("Every day")
    if seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("Every %(count)s day", "Every %(count)s days", days) % {"count": days}
    if seconds == 3600:
        return _("Every hour")
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("Every %(count)s hour", "Every %(count)s hours", hours) % {"count": hours}
    if seconds < 120:
        return _("Every minute")
    minutes = seconds // 60
    return ngettext("Every %(count)s minute", "Every %(count)s minutes", minutes) % {
        "count": minutes
    }


def schedule_rows(now: datetime) -> list[ScheduleRow]:
    """The periodic jobs, with when each was last enqueued (one query)."""
    last = dict(
        ScheduledRun.objects.filter(name__in=list(jobs.PERIODIC))
        .values("name")
        .annotate(last=Max("enqueued_at"))
        .values_list("name", "last")
    )
    return [
        ScheduleRow(p.name, describe(p), last.get(p.name), p.next_run(now))
        for p in sorted(jobs.PERIODIC.values(), key=lambda p: p.name)
    ]


@admin_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Recent runs, newest first, filtered by status; failures with their traceback."""
    now = timezone.now()
    status = request.GET.get("status", "")
    runs = DBTaskResult.objects.order_by("-enqueued_at")
    if status in STATUSES:
        runs = runs.filter(status=STATUSES[status][0])
    else:
        status = ""
    page = BoundedPaginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    late = now - STALLED_AFTER
    stalled = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, enqueued_at__lt=late)
        .filter(Q(run_after__lt=late) | Q(run_after=get_date_max()))
        .exists()
    )
    context = {
        "section": "jobs",
        "page": page,
        "rows": [JobRow.of(row) for row in page.object_list],
        "status": status,
        "statuses": [(key, label) for key, (_s, label) in STATUSES.items()],
        "query": f"status={status}" if status else "",
        "schedule": schedule_rows(now),
        "stalled": stalled,
    }
    return render(request, "core/jobs.html", context)


@admin_required
@require_POST
def job_retry(request: HttpRequest, pk: str) -> HttpResponse:
    """Run a failed job again, with the same arguments, as a new run."""
    try:
        key = uuid.UUID(pk)
    except ValueError:
        raise Http404 from None
    failed = DBTaskResult.objects.failed().filter(pk=key).first()
    if failed is None:
        raise Http404
    try:
        task = dataclasses.replace(failed.task, run_after=None)  # now, not the old retry time
    except (ImportError, SuspiciousOperation):
        messages.error(request, _("This job no longer exists in the application: it cannot run."))
        return redirect("core:jobs")
    arguments = failed.args_kwargs
    result = task.enqueue(*arguments.get("args", []), **arguments.get("kwargs", {}))
    logger.info(
        "Job %s (%s) enqueued again as %s by %s", failed.task_path, pk, result.id, request.user
    )
    messages.success(request, _("The job was enqueued again."))
    return redirect("core:jobs")
