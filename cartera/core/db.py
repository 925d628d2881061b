"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def joins_as_written() -> Iterator[None]:
    """Run the block with PostgreSQL joining tables in the order the queries write them.

    Made for pages whose queries each start from one row and follow its to-one relations, as
    the ficha's do: the order Django writes is already the best one, and PostgreSQL spent more
    time weighing the others than running the query (4 ms to plan the timeline's eight tables,
    0.2 ms to run it). The setting lasts for one transaction, opened here. SQLite plans joins
    its own way and is left alone, outside any transaction.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL join_collapse_limit = 1")
        yield
