"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


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
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL join_collapse_limit = 1")
        yield


def refresh_statistics(database: BaseDatabaseWrapper | None = None) -> bool:
    """Refresh the query planner's statistics where the database does not do it by itself.

    SQLite keeps them only when told (``ANALYZE``); without them, a table that has grown (the
    invoices of a few years, a large import) may be read through the wrong index: the purchase
    history of one customer took seconds among 5,000,000 invoices. PostgreSQL's autovacuum
    keeps its own statistics. Returns whether anything was done.

    The whole tables are read (8 s for a million customers and five million invoices): a
    sampled ``ANALYZE`` (``analysis_limit``) estimated a thousand customers per owner where there
    were 140,000, and the list then sorted a million rows.
    """
    database = database or connection
    if database.vendor != "sqlite":
        return False
    with database.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True


def commit_without_waiting_for_disk() -> None:
    """Let the current transaction's commit return before PostgreSQL has flushed it to disk.

    For bulk writes whose progress is recorded in the same transaction (an import's chunk and
    the row the next chunk starts at): a server crash may lose the last few such commits (at
    most three times ``wal_writer_delay``, 0.6 s by default), never part of one, and never
    corrupts anything, so the work is done again from the last recorded row. The next commit
    that does wait (the import's end) makes every earlier one durable too. Each commit of an
    import's chunk waited about 0.2 s for the disk. SQLite in WAL mode with
    ``synchronous=NORMAL`` already commits this way.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
