"""Database helpers: the join order kept on PostgreSQL, the planner's statistics on SQLite."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from cartera.core import jobs
from cartera.core.db import joins_as_written
from tests.conftest import make_customer

pytestmark = pytest.mark.django_db


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
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
    assert "customer_name" in indexes


def test_the_statistics_job_runs_every_night() -> None:
    assert jobs.PERIODIC["core.refresh_statistics"].daily_at == datetime.time(4, 0)
