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

_SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "search_text, content='customers_customer', content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customer_search_ai
        AFTER INSERT ON customers_customer BEGIN
          INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customer_search_ad
        AFTER DELETE ON customers_customer BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
          VALUES ('delete', old.id, old.search_text);
        END""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customer_search_au
        AFTER UPDATE OF search_text ON customers_customer BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
          VALUES ('delete', old.id, old.search_text);
          INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS customers_customer_search_au",
    "DROP TRIGGER IF EXISTS customers_customer_search_ad",
    "DROP TRIGGER IF EXISTS customers_customer_search_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
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
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def contains(fragment: str, *, using: str) -> Q:
    """Customers whose search text contains ``fragment`` (already folded), using the index."""
    if connections[using].vendor == "sqlite" and len(fragment) >= 3:
        phrase = '"' + fragment.replace('"', '""') + '"'
        rows = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase])
        return Q(id__in=rows)
    return Q(search_text__contains=fragment)
