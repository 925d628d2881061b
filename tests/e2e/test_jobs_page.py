"""Settings → Background jobs in Chromium: a failure with its error, retried with one click."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.core.jobs import register_periodic, run_pending
from tests.core.test_jobs import add, broken, daily_report
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


def test_an_administrator_sees_a_failed_job_and_retries_it(
    page: Page, live_server: Any, admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a job that failed for good, one that worked and one still waiting
    from cartera.core import jobs

    monkeypatch.setattr(jobs, "PERIODIC", dict(jobs.PERIODIC))
    register_periodic("reports.often", daily_report, every=datetime.timedelta(minutes=15))
    failed = broken.enqueue(42)
    add.enqueue(2, 3)
    run_pending()
    add.enqueue(40, 2)

    # when the administrator opens Settings, then Background jobs
    login(page, live_server, admin_user)
    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Trabajos en segundo plano").or_(
        page.get_by_role("link", name="Background jobs")
    ).click()

    # then the failure shows its error, open, with a retry button
    row = page.locator(f"#job-{failed.id}")
    expect(row).to_be_visible()
    expect(page.locator("#job-runs")).to_contain_text("customer 42 has no fiscal address")
    expect(page.locator("#job-schedule")).to_contain_text("reports.often")
    shot(page, "40-background-jobs")

    # when they press retry, a new run is waiting
    with page.expect_navigation():
        row.get_by_role("button").click()
    expect(page.locator(".message.success")).to_be_visible()
    assert DBTaskResult.objects.filter(task_path=broken.module_path).count() == 2
    shot(page, "41-background-jobs-retried")
