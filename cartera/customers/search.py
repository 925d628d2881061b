"""The search index over ``Customer.search_text``.

PostgreSQL: a trigram GIN index (pg_trgm) serves ``search_text LIKE '%word%'``.
SQLite: an FTS5 table with the trigram tokenizer mirrors ``search_text`` (kept in step by
triggers) and answers substring matches of three or more characters.
"""

from __future__ import annotations

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS_TABLE = "customers_customer_search"
_MATCH = "SELECT rowid FROM customers_customer_search WHERE customers_customer_search MATCH %s"

_SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_customer_search USING fts5("
    "search_text, content='customers_customer', content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER IF NOT EXISTS customers_customer_search_ai
        AFTER INSERT ON customers_customer BEGIN
          INSERT INTO customers_customer_search(rowid, search_text)
          VALUES (new.id, new.search_text);
        END""",
    """CREATE TRIGGER IF NOT EXISTS customers_customer_search_ad
        AFTER DELETE ON customers_customer BEGIN
          INSERT INTO customers_customer_search(customers_customer_search, rowid, search_text)
          VALUES ('delete', old.id, old.search_text);
        END""",
    """CREATE TRIGGER IF NOT EXISTS customers_customer_search_au
        AFTER UPDATE OF search_text ON customers_customer BEGIN
          INSERT INTO customers_customer_search(customers_customer_search, rowid, search_text)
          VALUES ('delete', old.id, old.search_text);
          INSERT INTO customers_customer_search(rowid, search_text)
          VALUES (new.id, new.search_text);
        END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS customers_customer_search_au",
    "DROP TRIGGER IF EXISTS customers_customer_search_ad",
    "DROP TRIGGER IF EXISTS customers_customer_search_ai",
    "DROP TABLE IF EXISTS customers_customer_search",
]
_POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_search_trgm ON customers_customer "
    "USING gin (search_text gin_trgm_ops)",
]
_POSTGRES_DROP = ["DROP INDEX IF EXISTS customer_search_trgm"]


def create_search_index(connection: BaseDatabaseWrapper) -> None:
    """Create the index (and, on SQLite, the triggers that keep it in step)."""
    statements = {"sqlite": _SQLITE_CREATE, "postgresql": _POSTGRES_CREATE}.get(
        connection.vendor, []
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    rebuild_search_index(connection)


def drop_search_index(connection: BaseDatabaseWrapper) -> None:
    statements = {"sqlite": _SQLITE_DROP, "postgresql": _POSTGRES_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def rebuild_search_index(connection: BaseDatabaseWrapper | None = None) -> None:
    """Refill the SQLite index from the table (after bulk loads that bypass the triggers)."""
    connection = connection or connections["default"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customers_customer_search(customers_customer_search) "
                "VALUES ('rebuild')"
            )


def contains(fragment: str, *, using: str) -> Q:
    """Customers whose search text contains ``fragment`` (already folded), using the index."""
    if connections[using].vendor == "sqlite" and len(fragment) >= 3:
        phrase = '"' + fragment.replace('"', '""') + '"'
        # The phrase is a bound parameter; the SQL text is constant.
        rows = RawSQL(_MATCH, [phrase])  # noqa: S611
        return Q(id__in=rows)
    return Q(search_text__contains=fragment)
