"""Database helpers: PostgreSQL keeps the join order written inside ``joins_as_written``."""

from __future__ import annotations

import pytest
from django.db import connection

from cartera.core.db import joins_as_written

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
