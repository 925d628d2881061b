"""Database helpers: the join order kept on PostgreSQL, commits that do not wait for the disk,
the planner's statistics on SQLite."""

from __future__ import annotations

import datetime

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import OperationalError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext

from cartera.core import jobs
from cartera.core.db import commit_without_waiting_for_disk, joins_as_written
from tests.conftest import make_customer
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row
from tests.transfer.helpers import imported

pytestmark = pytest.mark.django_db


def _setting(name: str = "join_collapse_limit") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return str(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_postgresql_joins_as_written_inside_the_block() -> None:
    before = _setting()
    with joins_as_written():
        assert _setting() == "1"
    assert before != "1"


def test_the_block_runs_and_returns_what_it_wraps() -> None:
    @joins_as_written()
    def read() -> int:
        from cartera.customers.models import Customer

        return Customer.objects.count()

    assert read() == 0


def test_statistics_are_refreshed_on_sqlite(owner) -> None:
    # given a customer in a table the planner knows nothing about yet
    make_customer(owner)
    if connection.vendor != "sqlite":
        # then PostgreSQL's autovacuum keeps its own and the job leaves it alone
        assert jobs.refresh_statistics_job.call() == {"analyzed": False}
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")

    # when the nightly job runs, then the planner has statistics for the customers' indexes
    assert jobs.refresh_statistics_job.call() == {"analyzed": True}
    with connection.cursor() as cursor:
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert "customer_sort_name" in indexes


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics")
def test_a_migrate_that_applied_something_refreshes_the_statistics(owner) -> None:
    # given a database without statistics, as one is after a migration added an index
    make_customer(owner)
    migration = MigrationLoader(connection).get_migration("customers", "0011_sort_name")

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")

    # when migrate ends having applied nothing, then nothing is analysed
    emit_post_migrate_signal(0, False, "default", plan=[])
    assert not _statistics()

    # and when it applied a migration, the new indexes have their statistics
    emit_post_migrate_signal(0, False, "default", plan=[(migration, False)])
    assert {"customer_sort_name", "customer_owner_sort_name"} <= _statistics()


def _statistics() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return set()
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
        return {row[0] for row in cursor.fetchall()}


def test_the_statistics_job_runs_every_night() -> None:
    assert jobs.PERIODIC["core.refresh_statistics"].daily_at == datetime.time(4, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
@pytest.mark.django_db(transaction=True)
def test_postgresql_commit_without_waiting_lasts_one_transaction() -> None:
    assert _setting("synchronous_commit") == "on"
    with transaction.atomic():
        commit_without_waiting_for_disk()
        assert _setting("synchronous_commit") == "off"
    assert _setting("synchronous_commit") == "on"


def test_each_imported_chunk_commits_without_waiting_on_postgresql(owner) -> None:
    rows = [SPANISH_HEADERS, spanish_row(1), spanish_row(2)]
    with CaptureQueriesContext(connection) as queries:
        batch = imported("dos.csv", csv_bytes(rows), owner)
    assert batch.created_count == 2
    relaxed = [q for q in queries if "synchronous_commit" in q["sql"]]
    # the one chunk's two transactions: its codes and ids taken, then its rows written
    assert len(relaxed) == (2 if connection.vendor == "postgresql" else 0)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics")
def test_a_busy_database_does_not_fail_the_migrate(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a database another process is writing to for longer than the busy timeout
    def locked(database: object = None) -> bool:
        raise OperationalError("database is locked")

    monkeypatch.setattr("cartera.core.db.refresh_statistics", locked)
    migration = MigrationLoader(connection).get_migration("customers", "0011_sort_name")

    # when migrate ends, then it ends well, and says the statistics wait for the night
    emit_post_migrate_signal(0, False, "default", plan=[(migration, False)])
    assert "Statistics not refreshed after migrating: database is locked" in caplog.text
