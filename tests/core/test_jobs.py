"""Background jobs: retries, failures reported to administrators, the periodic scheduler."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_tasks import TaskContext
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from cartera.accounts.models import User
from cartera.core import job_views, jobs
from cartera.core.jobs import job, register_periodic, run_due, run_pending
from cartera.core.models import ScheduledRun
from tests.conftest import client_for

MADRID = datetime.timezone(datetime.timedelta(hours=1))  # Europe/Madrid in winter

# --- Jobs the tests enqueue (module level, as the worker imports them by path) --------------------


@job
def add(a: int, b: int) -> int:
    return a + b


@job(attempts=3, backoff=datetime.timedelta(0), takes_context=True)
def flaky(context: TaskContext, fail_times: int) -> int:
    """Fails its first ``fail_times`` attempts, then answers which attempt it was."""
    if context.attempt <= fail_times:
        raise RuntimeError(f"attempt {context.attempt} failed")
    return context.attempt


@job(attempts=2, backoff=datetime.timedelta(0))
def broken(customer_id: int) -> None:
    raise ValueError(f"customer {customer_id} has no fiscal address")


@job(attempts=3, backoff=datetime.timedelta(minutes=1))
def slow_to_recover() -> None:
    raise ConnectionError("the mail server is down")


@job(attempts=1)
def fragile() -> None:
    raise KeyError("missing")


@job
def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "rested"


@job
def daily_report() -> None:
    pass


def row(result: Any) -> DBTaskResult:
    return DBTaskResult.objects.get(pk=result.id)


@pytest.fixture
def schedule(monkeypatch: pytest.MonkeyPatch) -> dict[str, jobs.Periodic]:
    """An empty schedule of periodic jobs for the test (the apps' own are put back after)."""
    periodic: dict[str, jobs.Periodic] = {}
    monkeypatch.setattr(jobs, "PERIODIC", periodic)
    return periodic


def english_admin(admin_user: User) -> Client:
    User.objects.filter(pk=admin_user.pk).update(language="en")
    client = client_for(admin_user)
    client.cookies["cartera_language"] = "en"
    return client


# --- Retries --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_that_fails_is_retried_until_it_succeeds() -> None:
    # given a job that fails twice before it works, with three attempts
    result = flaky.enqueue(fail_times=2)

    # when the worker runs what is due
    runs = run_pending()

    # then it ran three times, in one row, and ended well with no error left
    done = row(result)
    assert runs == 3
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 3
    assert len(done.worker_ids) == 3
    assert done.traceback == ""


@pytest.mark.django_db
def test_a_retry_waits_longer_each_time(caplog: pytest.LogCaptureFixture) -> None:
    # given a job whose attempts fail, one minute apart at first
    result = slow_to_recover.enqueue()

    # when its first attempt fails
    before = timezone.now()
    assert run_pending() == 1

    # then it waits a minute, in the queue, with the error kept and a warning logged
    waiting = row(result)
    assert waiting.status == TaskResultStatus.READY
    assert before + datetime.timedelta(seconds=59) < waiting.run_after
    assert waiting.run_after < timezone.now() + datetime.timedelta(seconds=61)
    assert "the mail server is down" in waiting.traceback
    assert run_pending() == 0  # not due yet
    assert [r.levelname for r in caplog.records if r.name == "cartera.jobs"] == ["WARNING"]

    # when its time comes and it fails again, it waits two minutes
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())
    before = timezone.now()
    assert run_pending() == 1
    assert row(result).run_after > before + datetime.timedelta(seconds=119)


@pytest.mark.django_db
def test_a_job_that_keeps_failing_is_recorded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    # given a job that always fails, with two attempts
    result = broken.enqueue(42)

    # when the worker runs it
    assert run_pending() == 2

    # then it failed for good: the row keeps the traceback and an error is logged
    failed = row(result)
    assert failed.status == TaskResultStatus.FAILED
    assert len(failed.worker_ids) == 2
    assert failed.exception_class_path == "builtins.ValueError"
    assert "customer 42 has no fiscal address" in failed.traceback
    errors = [r for r in caplog.records if r.name == "cartera.jobs" and r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "tests.core.test_jobs.broken" in errors[0].getMessage()
    assert "customer 42 has no fiscal address" in errors[0].getMessage()


@pytest.mark.django_db
def test_a_job_with_one_attempt_fails_once_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    # when a job with a single attempt fails
    result = fragile.enqueue()
    assert run_pending() == 1

    # then there is no retry, and the failure is reported
    assert row(result).status == TaskResultStatus.FAILED
    assert any(r.levelname == "ERROR" for r in caplog.records if r.name == "cartera.jobs")


@pytest.mark.django_db
def test_on_the_immediate_backend_a_failure_is_reported_not_raised(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given jobs that run as soon as they are enqueued
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    # when one succeeds and one fails
    assert add.enqueue(2, 3).return_value == 5
    result = broken.enqueue(42)

    # then the failure is in the result and in the log, without a retry
    assert result.status == TaskResultStatus.FAILED
    assert "customer 42" in result.errors[0].traceback
    assert [r.levelname for r in caplog.records if r.name == "cartera.jobs"] == ["ERROR"]
    assert DBTaskResult.objects.count() == 0


def test_a_job_needs_a_sensible_retry_policy() -> None:
    with pytest.raises(ValueError, match="attempt"):
        jobs.Job(func=add.func, attempts=0)
    with pytest.raises(ValueError, match="backoff"):
        jobs.Job(func=add.func, backoff=datetime.timedelta(seconds=-1))
    assert slow_to_recover.delay_after(1) == datetime.timedelta(minutes=1)
    assert slow_to_recover.delay_after(3) == datetime.timedelta(minutes=4)
    assert slow_to_recover.delay_after(30) == jobs.MAX_BACKOFF


# --- The administrators' page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_a_failed_job_with_its_error(admin_user: User) -> None:
    # given a job that failed for good and one that worked
    failed = broken.enqueue(42)
    done = add.enqueue(2, 3)
    run_pending()

    # when an administrator opens Settings → Background jobs
    response = english_admin(admin_user).get("/settings/jobs/")

    # then both are listed, the failure with its error and a retry button
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="job-{failed.id}"' in html
    assert f'id="job-{done.id}"' in html
    assert "Failed" in html and "Done" in html
    assert "customer 42 has no fiscal address" in html
    assert f'action="/settings/jobs/{failed.id}/retry/"' in html
    assert f'action="/settings/jobs/{done.id}/retry/"' not in html
    # and only the failures when filtered
    only_failed = english_admin(admin_user).get("/settings/jobs/?status=failed").content.decode()
    assert f'id="job-{failed.id}"' in only_failed
    assert f'id="job-{done.id}"' not in only_failed


@pytest.mark.django_db
def test_the_page_lists_the_schedule(admin_user: User, schedule: dict[str, Any]) -> None:
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    register_periodic("reports.often", daily_report, every=datetime.timedelta(minutes=15))

    html = english_admin(admin_user).get("/settings/jobs/").content.decode()

    assert "reports.daily" in html and "Every day at 07:00" in html
    assert "reports.often" in html and "Every 15 minutes" in html


@pytest.mark.django_db
def test_the_page_warns_when_no_worker_runs(admin_user: User) -> None:
    # given a job enqueued ten minutes ago that nobody ran
    result = add.enqueue(1, 1)
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - datetime.timedelta(minutes=10)
    )

    html = english_admin(admin_user).get("/settings/jobs/").content.decode()

    assert 'id="jobs-stalled"' in html


@pytest.mark.django_db
def test_the_retry_button_runs_a_failed_job_again(admin_user: User) -> None:
    # given a job that failed for good
    failed = broken.enqueue(42)
    run_pending()

    # when an administrator presses Retry
    response = english_admin(admin_user).post(f"/settings/jobs/{failed.id}/retry/")

    # then a new run with the same arguments is queued; the failure stays on record
    assert response.status_code == 302
    assert response["Location"] == "/settings/jobs/"
    again = DBTaskResult.objects.exclude(pk=failed.id).get()
    assert again.status == TaskResultStatus.READY
    assert again.task_path == "tests.core.test_jobs.broken"
    assert again.args_kwargs == {"args": [42], "kwargs": {}}
    assert again.run_after == get_date_max()  # at once, not at the failed run's retry time
    assert row(failed).status == TaskResultStatus.FAILED


@pytest.mark.django_db
def test_only_failed_jobs_can_be_retried(admin_user: User) -> None:
    done = add.enqueue(2, 3)
    run_pending()
    client = english_admin(admin_user)

    assert client.post(f"/settings/jobs/{done.id}/retry/").status_code == 404
    assert client.post("/settings/jobs/not-a-job/retry/").status_code == 404
    assert (
        client.post("/settings/jobs/00000000-0000-0000-0000-000000000000/retry/").status_code == 404
    )
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "manager", "reader"])
def test_only_administrators_see_the_jobs(request: pytest.FixtureRequest, role: str) -> None:
    # given a failed job and a user who is not an administrator
    failed = broken.enqueue(42)
    run_pending()
    client = client_for(request.getfixturevalue(role))

    # then the page and the retry button are forbidden, and nothing is queued again
    assert client.get("/settings/jobs/").status_code == 403
    assert client.post(f"/settings/jobs/{failed.id}/retry/").status_code == 403
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get("/settings/jobs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_page_runs_a_fixed_number_of_queries(
    admin_user: User, schedule: dict[str, Any]
) -> None:
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    client = english_admin(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/settings/jobs/").status_code == 200
        return len(ctx.captured_queries)

    broken.enqueue(1)
    run_pending()
    few = queries()
    for n in range(15):
        add.enqueue(n, n)
        broken.enqueue(n)
    run_pending()
    assert queries() == few


# --- The scheduler --------------------------------------------------------------------------------


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of November 2026 in Madrid (the TIME_ZONE of the settings)."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=MADRID)


def runs_of(task: jobs.Job[Any, Any]) -> int:
    return DBTaskResult.objects.filter(task_path=task.module_path).count()


@pytest.mark.django_db
def test_a_daily_job_is_enqueued_once_a_day(schedule: dict[str, Any]) -> None:
    # given a job that runs every day at 07:00, last run on the 1st
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    assert run_due(now=at(1, 7, 0)) == ["reports.daily"]

    # when the scheduler looks again that day, and before 07:00 the next day
    assert run_due(now=at(1, 7, 0)) == []
    assert run_due(now=at(1, 23, 59)) == []
    assert run_due(now=at(2, 6, 59)) == []

    # then it is enqueued again at 07:00 the next day, once
    assert run_due(now=at(2, 7, 0)) == ["reports.daily"]
    assert run_due(now=at(2, 7, 1)) == []
    assert runs_of(daily_report) == 2
    assert list(ScheduledRun.objects.order_by("period").values_list("period", flat=True)) == [
        "2026-11-01",
        "2026-11-02",
    ]


@pytest.mark.django_db
def test_two_schedulers_enqueue_a_period_once(schedule: dict[str, Any]) -> None:
    # given two workers' schedulers that both found the period not yet enqueued
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    periodic = schedule["reports.daily"]
    period = periodic.period(at(3, 8))

    # when both try to enqueue it
    first = jobs.enqueue_period(periodic, period)
    second = jobs.enqueue_period(periodic, period)

    # then only the first did: one schedule row, one job
    assert (first, second) == (True, False)
    assert ScheduledRun.objects.filter(name="reports.daily").count() == 1
    assert runs_of(daily_report) == 1
    assert ScheduledRun.objects.get().task_result_id == str(DBTaskResult.objects.get().id)


@pytest.mark.django_db
def test_a_stopped_worker_catches_up_once(schedule: dict[str, Any]) -> None:
    # given a daily job last run on the 1st, and a worker stopped from then until the 4th
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    run_due(now=at(1, 7, 30))

    # when the worker starts again on the 4th at 06:00, before the day's time
    # then the missed run (the 3rd's) is enqueued once, not once per missed day
    assert run_due(now=at(4, 6, 0)) == ["reports.daily"]
    assert run_due(now=at(4, 6, 30)) == []
    assert runs_of(daily_report) == 2

    # and the 4th's run still comes at 07:00
    assert run_due(now=at(4, 7, 0)) == ["reports.daily"]
    assert runs_of(daily_report) == 3


@pytest.mark.django_db
def test_daily_time_is_local_time(schedule: dict[str, Any], settings: Any) -> None:
    # given a company in Mexico City (UTC-6) and a job at 07:00, done yesterday
    settings.TIME_ZONE = "America/Mexico_City"
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    utc = datetime.UTC
    run_due(now=datetime.datetime(2026, 11, 2, 12, 0, tzinfo=utc))  # 06:00 there: the 1st's run

    # then 12:59 UTC is too early there, and 13:00 UTC is 07:00 there
    assert run_due(now=datetime.datetime(2026, 11, 2, 12, 59, tzinfo=utc)) == []
    assert run_due(now=datetime.datetime(2026, 11, 2, 13, 0, tzinfo=utc)) == ["reports.daily"]
    assert ScheduledRun.objects.latest("period").period == "2026-11-02"


@pytest.mark.django_db
def test_an_interval_job_runs_once_per_interval(schedule: dict[str, Any]) -> None:
    register_periodic("reports.often", daily_report, every=datetime.timedelta(minutes=15))

    assert run_due(now=at(5, 10, 0)) == ["reports.often"]
    assert run_due(now=at(5, 10, 14)) == []
    assert run_due(now=at(5, 10, 15)) == ["reports.often"]
    assert runs_of(daily_report) == 2
    assert schedule["reports.often"].next_run(at(5, 10, 20)) == at(5, 10, 30)


@pytest.mark.django_db
def test_the_scheduled_job_runs(schedule: dict[str, Any]) -> None:
    # given a periodic job enqueued by the scheduler
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(7, 0))
    run_due()

    # when the worker runs what is due, it ran
    assert run_pending() == 1
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


@pytest.mark.parametrize(
    ("every", "text"),
    [
        (datetime.timedelta(days=1), "Every day"),
        (datetime.timedelta(days=7), "Every 7 days"),
        (datetime.timedelta(hours=1), "Every hour"),
        (datetime.timedelta(hours=6), "Every 6 hours"),
        (datetime.timedelta(minutes=1), "Every minute"),
        (datetime.timedelta(minutes=90), "Every 90 minutes"),
    ],
)
def test_the_schedule_says_how_often(every: datetime.timedelta, text: str) -> None:
    periodic = jobs.Periodic(name="x", task=daily_report, every=every)
    with translation.override("en"):
        assert job_views.describe(periodic) == text


def test_register_periodic_refuses_mistakes(schedule: dict[str, Any]) -> None:
    seven = datetime.time(7, 0)
    with pytest.raises(ValueError, match="daily_at or every"):
        register_periodic("x", daily_report)
    with pytest.raises(ValueError, match="daily_at or every"):
        register_periodic("x", daily_report, daily_at=seven, every=datetime.timedelta(hours=1))
    with pytest.raises(ValueError, match="cannot be given a, b"):
        register_periodic("x", add, daily_at=seven)
    with pytest.raises(ValueError, match="local time"):
        register_periodic("x", daily_report, daily_at=datetime.time(7, tzinfo=datetime.UTC))
    with pytest.raises(ValueError, match="once a minute"):
        register_periodic("x", daily_report, every=datetime.timedelta(seconds=5))
    with pytest.raises(TypeError):
        register_periodic("x", daily_report.func, daily_at=seven)  # type: ignore[arg-type]
    # the same name again: the same job is fine (ready() may run twice), another one is not
    register_periodic("x", daily_report, daily_at=seven)
    register_periodic("x", daily_report, daily_at=datetime.time(8, 0))
    with pytest.raises(ValueError, match="already"):
        register_periodic("x", jobs.prune_job_history, daily_at=seven)
    assert schedule["x"].daily_at == datetime.time(8, 0)


def test_the_apps_register_their_periodic_jobs() -> None:
    assert jobs.PERIODIC["core.prune_job_history"].daily_at == datetime.time(3, 30)


@pytest.mark.django_db
def test_old_history_is_pruned(schedule: dict[str, Any]) -> None:
    # given runs finished long ago and recently, and an old schedule row
    old, recent, old_failure = add.enqueue(1, 1), add.enqueue(2, 2), broken.enqueue(3)
    run_pending()
    long_ago = timezone.now() - datetime.timedelta(days=40)
    DBTaskResult.objects.filter(pk__in=[old.id, old_failure.id]).update(finished_at=long_ago)
    ScheduledRun.objects.create(name="reports.daily", period="2026-01-01")
    ScheduledRun.objects.update(enqueued_at=long_ago)

    # when the pruning job runs
    counts = jobs.prune_job_history.call()

    # then old successes and schedule rows go; recent runs and failures (kept 90 days) stay
    assert counts == {"results": 1, "scheduled_runs": 1}
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        row(recent).pk,
        row(old_failure).pk,
    }


@pytest.mark.django_db
def test_worker_once_enqueues_due_periodic_jobs_and_runs_everything(
    schedule: dict[str, Any],
) -> None:
    register_periodic("reports.daily", daily_report, daily_at=datetime.time(0, 0))
    result = add.enqueue(20, 22)

    call_command("worker", "--once", verbosity=0)

    assert row(result).return_value == 42
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 2
    assert run_due() == []
