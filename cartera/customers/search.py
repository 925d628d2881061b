"""The search index over ``Customer.search_text``.

PostgreSQL: a trigram GIN index (pg_trgm) serves ``search_text LIKE '%word%'``.
SQLite: an FTS5 table with the trigram tokenizer mirrors ``search_text`` (kept in step by
triggers) and answers substring matches of three or more characters.
"""

from __future__ import annotations

import sqlite3
from typing import Any

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


CTE = "search_first_matches"


class FirstMatches:
    """The first ``limit`` customers the index finds (SQLite: by id) whose search text holds
    every word, or the whole of ``either`` (the query's letters and digits alone).

    Every word must be three or more characters (the trigram index answers nothing shorter).
    A common surname matches tens of thousands of customers; reading them all to filter and
    sort them costs more than the page is worth, so lists work on the first matches and say
    "more than" when there were more. ``read`` tells both in one statement, which reads the
    index once: the matches go to a materialised CTE that the filtered query and a count share.
    """

    def __init__(self, words: list[str], either: str, *, using: str, limit: int) -> None:
        self.using, self.limit, self.in_cte = using, limit, False
        self.vendor = connections[using].vendor
        if self.vendor == "sqlite":
            expression = " AND ".join(_phrase(w) for w in words)
            if either:
                expression = f"({expression}) OR {_phrase(either)}"
            self.expression = expression
        else:
            condition = Q()
            for word in words:
                condition &= Q(search_text__contains=word)
            if either:
                condition |= Q(search_text__contains=either)
            self.condition = condition

    def sql(self, limit: int) -> tuple[str, list[Any]]:
        """The SELECT of the ids of the first ``limit`` matches (constant text, bound values)."""
        if self.vendor == "sqlite":
            return _MATCH + " LIMIT %s", [self.expression, limit]
        from cartera.customers.models import Customer

        matching = Customer.objects.using(self.using).filter(self.condition).order_by()
        sql, params = matching.values("id")[:limit].query.sql_with_params()
        return sql, list(params)

    def q(self) -> Q:
        return Q(id__in=_Matches(self))

    def read(self, queryset: Any, limit: int) -> tuple[list[int], bool]:
        """The ids of up to ``limit`` + 1 customers of ``queryset`` (filtered from these
        matches), and whether the index had more matches than ``self.limit``."""
        ids = queryset.order_by().values_list("pk", flat=True)[: limit + 1]
        self.in_cte = True
        try:
            sql, params = ids.query.sql_with_params()
        finally:
            self.in_cte = False
        first_sql, first_params = self.sql(self.limit + 1)
        materialized = "MATERIALIZED " if self.vendor == "postgresql" or _SQLITE_CTE else ""
        statement = (
            f"WITH {CTE}(id) AS {materialized}({first_sql}) "  # noqa: S608 - our own SQL, bound values
            f"SELECT 0, COUNT(*) FROM {CTE} UNION ALL SELECT 1, ids.* FROM ({sql}) AS ids"
        )
        with connections[self.using].cursor() as cursor:
            cursor.execute(statement, [*first_params, *params])
            rows = cursor.fetchall()
        matches = next(value for kind, value in rows if kind == 0)
        return [value for kind, value in rows if kind == 1], matches > self.limit


class _Matches(RawSQL):
    """The subquery of the first matches; while ``FirstMatches.read`` compiles, the CTE."""

    def __init__(self, first: FirstMatches) -> None:
        self.first = first
        super().__init__(*first.sql(first.limit))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        if self.first.in_cte:
            # The first ``limit``; the CTE holds one more, to tell whether there were more.
            return f"(SELECT id FROM {CTE} LIMIT {int(self.first.limit)})", []  # noqa: S608
        return super().as_sql(compiler, connection)


_SQLITE_CTE = sqlite3.sqlite_version_info >= (3, 35)  # AS MATERIALIZED


def _phrase(fragment: str) -> str:
    return '"' + fragment.replace('"', '""') + '"'
