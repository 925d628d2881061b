"""``cartera worker`` as a real process: two of them on one database, a job, then SIGTERM.

On SQLite the workers share a database file made for the test (the test database lives in
memory); with DATABASE_URL=postgres://... they use the test database itself, so this test
commits (tests/conftest.py puts back the rows the migrations seed).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
CARTERA = [sys.executable, "-m", "cartera.cli"]
WORKER_OPTIONS = ["--interval", "0.2", "--schedule-interval", "1"]
TIMEOUT = 60.0  # seconds any single wait may take before the test fails

Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


@dataclass
class Worker:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def started(self) -> bool:
        return any("en marcha" in line for line in self.lines)  # "started", in Spanish


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def database(tmp_path: Path) -> tuple[dict[str, str], Query]:
    """The environment of a `cartera` process on the test's database, and a way to read it."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", CARTERA_DATA_DIR=str(tmp_path / "data"))
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        credentials = quote(db["USER"] or "") + (
            f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        )
        host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        env["DATABASE_URL"] = f"postgres://{credentials}@{host}/{db['NAME']}"

        def query(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())

        return env, query
    cartera(env, "migrate", "-v0")
    path = tmp_path / "data" / "cartera.sqlite3"

    def query_file(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(path, timeout=20)) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    return env, query_file


def cartera(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [*CARTERA, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def enqueue(env: dict[str, str], call: str) -> str:
    """Enqueue a job of tests.core.test_jobs from another process; its id."""
    code = f"from tests.core import test_jobs; print('JOB', test_jobs.{call}.id)"
    found = re.search(r"JOB ([0-9a-f-]{36})", cartera(env, "shell", "-c", code))
    assert found is not None
    return found.group(1)


@pytest.fixture
def workers(database: tuple[dict[str, str], Query], tmp_path: Path) -> Iterator[list[Worker]]:
    """Two `cartera worker` processes; killed at the end if a test left them running."""
    env, _query = database
    started: list[Worker] = []
    for n in range(2):
        process = subprocess.Popen(
            [*CARTERA, "worker", *WORKER_OPTIONS, "--worker-id", f"test-{n}"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=(tmp_path / f"worker-{n}.log").open("w"),
            text=True,
        )
        worker = Worker(process)
        threading.Thread(target=worker.read, daemon=True).start()
        started.append(worker)
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(TIMEOUT)


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_jobs_schedule_once_and_stop_on_sigterm(
    database: tuple[dict[str, str], Query], workers: list[Worker], tmp_path: Path
) -> None:
    env, query = database

    def status(job_id: str) -> tuple[str, Any]:
        rows = query(
            "SELECT status, return_value FROM django_tasks_database_dbtaskresult WHERE id = %s",
            (job_id if connection.vendor == "postgresql" else job_id.replace("-", ""),),
        )
        return rows[0] if rows else ("", None)

    # given two workers on the same database, both past their first look at the schedule
    wait_for(lambda: all(w.started for w in workers), "both workers to start")

    # when a job is enqueued
    added = enqueue(env, "add.enqueue(2, 3)")

    # then one of them runs it
    wait_for(lambda: status(added)[0] == "SUCCESSFUL", "the job to succeed")
    value = status(added)[1]
    assert (json.loads(value) if isinstance(value, str) else value) == 5

    # and the periodic jobs were enqueued once, though both schedulers looked several times
    time.sleep(2.5)
    prune = "cartera.core.jobs.prune_job_history"
    runs = query(
        "SELECT count(*) FROM core_scheduledrun WHERE name = %s", ("core.prune_job_history",)
    )
    jobs = query(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE task_path = %s", (prune,)
    )
    assert runs == jobs == [(1,)]

    # when a slow job is running and both workers get SIGTERM
    napping = enqueue(env, "nap.enqueue(1.5)")
    wait_for(lambda: status(napping)[0] == "RUNNING", "the slow job to start")
    for worker in workers:
        worker.process.send_signal(signal.SIGTERM)

    # then both stop cleanly, the slow job finished first
    for worker in workers:
        assert worker.process.wait(TIMEOUT) == 0
    wait_for(lambda: all(any("detenido" in line for line in w.lines) for w in workers), "output")
    assert status(napping)[0] == "SUCCESSFUL"
