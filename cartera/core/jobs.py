"""Background jobs: define them with ``@job``, schedule them with ``register_periodic``.

Jobs are tasks of django-tasks (the backport of Django's tasks API), kept in the database by
django-tasks-db and run by ``cartera worker``. This module adds what the plain task lacks:

- retries: a failed attempt goes back to the queue after a growing delay, up to ``attempts``
  runs in all (the same row: its ``worker_ids`` count the attempts);
- reporting: a job that fails for the last time is logged as an error (logger
  ``cartera.jobs``) and stays in the database with its traceback, listed for administrators
  under Settings → Background jobs, where it can be retried;
- a scheduler without cron: a periodic job is enqueued once per period (a day, at a local
  time, or a fixed interval) however many workers run, and once more after a stop that made
  it miss its time. ``ScheduledRun``'s unique (name, period) pair is what makes it once.

Usage, in an app::

    @job(attempts=5, backoff=timedelta(minutes=2))
    def send_digest(user_id: int) -> None: ...

    send_digest.enqueue(user.pk)                      # from a service, after commit
    register_periodic("activities.digest", send_digests, daily_at=time(7, 0))  # in ready()
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Concatenate, Literal, TypeVar, overload

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, TaskContext
from django_tasks.base import DEFAULT_TASK_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_finished
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception
from typing_extensions import ParamSpec

from cartera.core.models import ScheduledRun

logger = logging.getLogger("cartera.jobs")

P = ParamSpec("P")
T = TypeVar("T")

MAX_BACKOFF = timedelta(hours=6)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How long finished runs stay listed; failures longer, so that nobody misses one.
KEEP_SUCCESSFUL = timedelta(days=30)
KEEP_FAILED = timedelta(days=90)


# --- Jobs with retries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Job(Task[P, T]):
    """A task run up to ``attempts`` times, waiting ``backoff``, then twice as long, ..."""

    attempts: int = 3
    backoff: timedelta = timedelta(minutes=1)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("A job needs at least one attempt.")
        if self.backoff < timedelta(0):
            raise ValueError("The backoff of a job cannot be negative.")
        Task.__post_init__(self)  # zero-argument super() does not work in slotted dataclasses

    def delay_after(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        return min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF)


@overload
def job(function: Callable[P, T], /) -> Job[P, T]: ...


@overload
def job(
    *,
    attempts: int = 3,
    backoff: timedelta = ...,
    priority: int = DEFAULT_TASK_PRIORITY,
    queue_name: str = DEFAULT_TASK_QUEUE_NAME,
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
    takes_context: Literal[False] = False,
) -> Callable[[Callable[P, T]], Job[P, T]]: ...


@overload
def job(
    *,
    attempts: int = 3,
    backoff: timedelta = ...,
    priority: int = DEFAULT_TASK_PRIORITY,
    queue_name: str = DEFAULT_TASK_QUEUE_NAME,
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
    takes_context: Literal[True],
) -> Callable[[Callable[Concatenate[TaskContext, P], T]], Job[P, T]]: ...


def job(
    function: Callable[..., Any] | None = None,
    /,
    *,
    attempts: int = 3,
    backoff: timedelta = timedelta(minutes=1),
    priority: int = DEFAULT_TASK_PRIORITY,
    queue_name: str = DEFAULT_TASK_QUEUE_NAME,
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
    takes_context: bool = False,
) -> Any:
    """Make a module-level function a background job: ``@job`` or ``@job(attempts=5, ...)``.

    Arguments must be JSON values (ids, not model instances). ``job.enqueue(...)`` queues a
    run; with ``takes_context=True`` the function gets a ``TaskContext`` first, whose
    ``attempt`` says which attempt this is.
    """

    def wrap(func: Callable[..., Any]) -> Job[Any, Any]:
        return Job(
            func=func,
            priority=priority,
            queue_name=queue_name,
            backend=backend,
            takes_context=takes_context,
            run_after=None,
            attempts=attempts,
            backoff=backoff,
        )

    return wrap(function) if function is not None else wrap


@receiver(task_finished, dispatch_uid="cartera.jobs.after_attempt")
def after_attempt(sender: type, task_result: TaskResult[Any], **kwargs: Any) -> None:
    """After a failed attempt: queue the next one, or report the failure for good."""
    if task_result.status != TaskResultStatus.FAILED:
        return
    try:
        if not retry_later(task_result):
            report_failure(task_result)
    except Exception:  # the worker must go on with the next job whatever happens here
        logger.exception("Could not handle the failure of job %s", task_result.id)


def retry_later(task_result: TaskResult[Any]) -> bool:
    """Put a failed database job back in the queue if it has attempts left."""
    task = task_result.task
    db_result = getattr(task_result, "db_result", None)
    if not isinstance(task, Job) or not isinstance(db_result, DBTaskResult):
        return False  # plain tasks, and backends without a queue, run once
    attempt = task_result.attempts
    if attempt >= task.attempts:
        return False
    run_after = timezone.now() + task.delay_after(attempt)
    queued = DBTaskResult.objects.filter(pk=db_result.pk, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, run_after=run_after, finished_at=None
    )
    if queued:
        logger.warning(
            "Job %s (%s) failed on attempt %d of %d; next attempt at %s",
            task.module_path, task_result.id, attempt, task.attempts, run_after.isoformat(),
        )  # fmt: skip
    return bool(queued)


def report_failure(task_result: TaskResult[Any]) -> None:
    """Log a job that will not be tried again (its row keeps the traceback)."""
    error = task_result.errors[-1] if task_result.errors else None
    logger.error(
        "Job %s (%s) failed after %d attempt(s): %s\n%s",
        task_result.task.module_path,
        task_result.id,
        task_result.attempts,
        error.exception_class_path if error else "unknown error",
        error.traceback if error else "",
    )


# --- Running jobs in this process ------------------------------------------------------------


def claim_next(
    *,
    worker_id: str,
    queue_names: Sequence[str] = ("*",),
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
) -> DBTaskResult | None:
    """Take the next due job off the queue (no other worker can take it), or None."""
    due = DBTaskResult.objects.ready().filter(backend_name=backend)
    if "*" not in queue_names:
        due = due.filter(queue_name__in=list(queue_names))
    try:
        with exclusive_transaction(due.db):
            row = due.get_locked()
            if row is not None:
                row.claim(worker_id)
    except OperationalError as error:
        if is_locked_database_exception(error):
            return None  # another worker is claiming: try again on the next round
        raise
    return row


def run_next(
    *,
    worker_id: str | None = None,
    queue_names: Sequence[str] = ("*",),
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
) -> bool:
    """Run the next due job here, recording its outcome; whether there was one."""
    worker_id = worker_id or get_random_string(32)
    row = claim_next(worker_id=worker_id, queue_names=queue_names, backend=backend)
    if row is None:
        return False
    runner = Worker(
        queue_names=list(queue_names),
        interval=0,
        batch=True,
        backend_name=backend,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    runner.run_task(row)  # django-tasks-db's own run: status, return value, traceback, signals
    return True


def run_pending(*, limit: int | None = None, worker_id: str | None = None) -> int:
    """Run every job that is due now, retries that are due included; how many runs."""
    runs = 0
    while (limit is None or runs < limit) and run_next(worker_id=worker_id):
        runs += 1
    return runs


# --- Periodic jobs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Periodic:
    """A job enqueued once a day at a local time, or once every interval."""

    name: str
    task: Task[Any, Any]
    daily_at: time | None = None
    every: timedelta | None = None

    def period(self, now: datetime) -> str:
        """The key of the latest period that has started by ``now``."""
        if self.daily_at is not None:
            return self._latest_day(now).isoformat()
        assert self.every is not None
        return str((now - EPOCH) // self.every)

    def next_run(self, now: datetime) -> datetime:
        """When the next period starts (the job is enqueued then, or soon after)."""
        if self.daily_at is not None:
            day = self._latest_day(now) + timedelta(days=1)
            zone = timezone.get_default_timezone()
            return datetime.combine(day, self.daily_at, tzinfo=zone)
        assert self.every is not None
        return EPOCH + self.every * ((now - EPOCH) // self.every + 1)

    def _latest_day(self, now: datetime) -> date:
        assert self.daily_at is not None
        local = timezone.localtime(now, timezone.get_default_timezone())
        today = local.date()
        return today if local.time().replace(tzinfo=None) >= self.daily_at else today - timedelta(1)


PERIODIC: dict[str, Periodic] = {}


def register_periodic(
    name: str,
    task_obj: Task[Any, Any],
    *,
    daily_at: time | None = None,
    every: timedelta | None = None,
) -> None:
    """Run ``task_obj`` (it takes no arguments) every day at ``daily_at`` or every ``every``.

    Call it from an AppConfig.ready(). ``daily_at`` is a wall-clock time in the TIME_ZONE of
    the settings; a worker that was stopped at that time runs the job once when it starts.
    ``name`` (e.g. ``"activities.reminders"``) identifies the job in the schedule.
    """
    if (daily_at is None) == (every is None):
        raise ValueError(f"Periodic job {name!r}: give daily_at or every (one of them).")
    if not isinstance(task_obj, Task):
        raise TypeError(f"Periodic job {name!r}: {task_obj!r} is not a task (use @job).")
    if not name or len(name) > ScheduledRun._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValueError(f"Periodic job name {name!r} is empty or too long.")
    if daily_at is not None and daily_at.tzinfo is not None:
        raise ValueError(f"Periodic job {name!r}: daily_at is a local time, without a zone.")
    if every is not None and every < timedelta(minutes=1):
        raise ValueError(f"Periodic job {name!r}: run it at most once a minute.")
    parameters = list(inspect.signature(task_obj.func).parameters.values())
    required = [
        p.name
        for p in parameters[1 if task_obj.takes_context else 0 :]
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if required:
        raise ValueError(f"Periodic job {name!r} cannot be given {', '.join(required)}.")
    known = PERIODIC.get(name)
    if known is not None and known.task.module_path != task_obj.module_path:
        raise ValueError(f"Periodic job {name!r} is already {known.task.module_path}.")
    PERIODIC[name] = Periodic(name=name, task=task_obj, daily_at=daily_at, every=every)


def run_due(
    *, now: datetime | None = None, schedule: Iterable[Periodic] | None = None
) -> list[str]:
    """Enqueue each periodic job whose current period has no run yet; the names enqueued."""
    now = now or timezone.now()
    wanted = {
        p.name: (p, p.period(now)) for p in (PERIODIC.values() if schedule is None else schedule)
    }
    if not wanted:
        return []
    started = Q()
    for name, (_periodic, period) in wanted.items():
        started |= Q(name=name, period=period)
    done = set(ScheduledRun.objects.filter(started).values_list("name", flat=True))
    return [
        name
        for name, (periodic, period) in wanted.items()
        if name not in done and enqueue_period(periodic, period)
    ]


def enqueue_period(periodic: Periodic, period: str) -> bool:
    """Enqueue the job for ``period`` unless some scheduler already did; whether this one did."""
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(name=periodic.name, period=period)
            result = periodic.task.enqueue()
            run.task_result_id = str(result.id)
            run.save(update_fields=["task_result_id"])
    except IntegrityError:
        return False  # another worker's scheduler took this period first
    logger.info("Periodic job %s enqueued for period %s", periodic.name, period)
    return True


@job(attempts=2)
def refresh_statistics_job() -> dict[str, bool]:
    """The planner's statistics, every night and after an import (SQLite: ``ANALYZE``)."""
    from cartera.core.db import refresh_statistics

    return {"analyzed": refresh_statistics()}


@job(attempts=2)
def prune_job_history() -> dict[str, int]:
    """Forget old finished runs (failures are kept longer) and old schedule rows."""
    now = timezone.now()
    results, _ = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - KEEP_SUCCESSFUL)
        | Q(status=TaskResultStatus.FAILED, finished_at__lt=now - KEEP_FAILED)
    ).delete()
    # The current period's row must survive: keep at least two periods of the longest job.
    longest = max((p.every for p in PERIODIC.values() if p.every), default=timedelta(0))
    runs, _ = ScheduledRun.objects.filter(
        enqueued_at__lt=now - max(KEEP_SUCCESSFUL, 2 * longest)
    ).delete()
    return {"results": results, "scheduled_runs": runs}
