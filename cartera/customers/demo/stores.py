"""Writing the bulk loader's rows: one batch at a time, indexes down during the load.

``SQLiteStore`` writes with ``executemany``, ``PostgresStore`` with ``COPY``; each drops what
is cheaper to build or check once at the end than to keep in step row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from cartera.customers.models import Address, Contact, ContactChannel, Customer
from cartera.customers.search import FTS_TABLE, create_search_index, drop_search_index

Row = tuple[Any, ...]

# FTS5 flushes its in-memory index every ``hashsize`` bytes (1 MB by default): rebuilding a
# million rows with that merges hundreds of small segments, with 64 MB a handful.
FTS_HASHSIZE = (64 * 1024 * 1024, 1024 * 1024)  # during the rebuild, afterwards

# Customer columns in the order of ``bulk.Planned.values`` after id, code and search text; any
# other concrete field of the model is written with its default.
CUSTOMER_FIELDS = (
    "id", "code", "search_text", "kind", "fiscal_type", "legal_name", "trade_name", "first_name",
    "last_name", "legal_form", "tax_id", "tax_id_type", "tax_country", "stage", "status",
    "status_reason", "loss_reason", "loss_detail", "group", "follow_up", "owner",
    "notes", "payment_method", "payment_terms_days", "currency", "language", "lead_source",
    "sector", "size", "annual_revenue", "purchase_potential", "custom_data", "reviewed_at",
    "archived_at", "created_at", "updated_at", "created_by", "updated_by", "version", "sort_name",
)  # fmt: skip
CHANNEL_FIELDS = ("customer", "type", "label", "value", "is_primary", "position")
ADDRESS_FIELDS = ("customer", "type", "street", "exterior_number", "interior_number",
                  "neighbourhood", "municipality", "locality", "postal_code", "region",
                  "country")  # fmt: skip
CONTACT_FIELDS = ("customer", "first_name", "last_name", "role", "email", "phone", "mobile",
                  "birthday", "notes", "is_primary")  # fmt: skip

TABLES: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Customer, CUSTOMER_FIELDS),
    (ContactChannel, CHANNEL_FIELDS),
    (Address, ADDRESS_FIELDS),
    (Contact, CONTACT_FIELDS),
    (Customer.tags.through, ("customer", "tag")),
)


class Store:
    """Writes batches of rows, and takes indexes and constraints down and up around the load.

    Each vendor's choice of what to drop comes from measuring a million-row load: see
    ``SQLiteStore`` and ``PostgresStore``.
    """

    drop_search = True  # drop the search index and build it once at the end
    drop_foreign_keys = False  # drop the foreign keys and validate them once at the end

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.quote = connection.ops.quote_name
        self.names = [model._meta.db_table for model, _fields in TABLES]
        self.columns = [
            [str(model._meta.get_field(name).column) for name in fields] for model, fields in TABLES
        ]
        # Concrete customer fields this loader does not know get their default.
        extra = [f for f in Customer._meta.concrete_fields if f.name not in CUSTOMER_FIELDS]
        self.columns[0] += [str(f.column) for f in extra]
        self.extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[Any]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    def secondary_indexes(self) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the non-unique indexes of the tables the load fills."""
        raise NotImplementedError

    def before(self) -> None:
        if self.drop_search:
            drop_search_index(self.connection)
        self.indexes = self.secondary_indexes()
        for name, _sql in self.indexes:
            self.execute(f"DROP INDEX {self.quote(name)}")
        if self.drop_foreign_keys:
            self.foreign_keys = self.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
                [self.names],
            )
            self.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks block ALTER
        for table, name, _definition in self.foreign_keys:
            self.execute(f"ALTER TABLE {table} DROP CONSTRAINT {self.quote(name)}")

    def after(self) -> None:
        for _name, sql in self.indexes:
            self.execute(sql)
        for table, name, definition in self.foreign_keys:  # checks every row once
            self.execute(f"ALTER TABLE {table} ADD CONSTRAINT {self.quote(name)} {definition}")
        if self.drop_search:
            create_search_index(self.connection)

    def reserve_ids(self, count: int) -> list[int]:
        raise NotImplementedError

    def write(self, rows: list[list[Row]]) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError


class SQLiteStore(Store):
    """FTS5 is rebuilt at the end (in step with each insert it is three times slower); foreign
    key checks are cheap lookups and stay on."""

    def secondary_indexes(self) -> list[tuple[str, str]]:
        found = []
        for table in self.names:
            for _seq, name, unique, origin, _partial in self.execute(
                f"PRAGMA index_list({self.quote(table)})"
            ):
                if not unique and origin == "c":
                    sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s"
                    found.append((name, self.execute(sql, [name])[0][0]))
        return found

    def before(self) -> None:
        # The search index's own definition, to build it with a bigger flush size.
        sql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s"
        self.fts_sql = next(iter(self.execute(sql, [FTS_TABLE])), [None])[0]
        super().before()

    def after(self) -> None:
        hashsize = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('hashsize', %s)"  # noqa: S608
        if self.fts_sql:
            self.execute(self.fts_sql)
            self.execute(hashsize, [FTS_HASHSIZE[0]])
        super().after()  # indexes, then create_search_index: the triggers and a rebuild
        if self.fts_sql:
            self.execute(hashsize, [FTS_HASHSIZE[1]])

    def reserve_ids(self, count: int) -> list[int]:
        # In the batch's transaction, which holds SQLite's write lock (BEGIN IMMEDIATE).
        table = self.names[0]
        top_sql = f"SELECT COALESCE(MAX(id), 0) FROM {self.quote(table)}"  # noqa: S608
        (top,) = self.execute(top_sql)[0]
        seq = self.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        start = max(top, seq[0][0] if seq else 0) + 1
        return list(range(start, start + count))

    def write(self, rows: list[list[Row]]) -> None:
        raw = self.connection.connection
        for table, columns, items in zip(self.names, self.columns, rows, strict=True):
            if items:
                names = ", ".join(self.quote(c) for c in columns)
                marks = ", ".join("?" * len(columns))
                sql = f"INSERT INTO {self.quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
                raw.executemany(sql, items)

    def analyze(self) -> None:
        self.execute("ANALYZE")
        self.execute("PRAGMA optimize")


class PostgresStore(Store):
    """The trigram index stays and is kept in step by the server while the next batch is being
    generated; foreign key triggers (eight per customer) would cost more than the whole COPY,
    so the keys are dropped and added back, which checks them in one pass."""

    drop_search = False
    drop_foreign_keys = True

    def secondary_indexes(self) -> list[tuple[str, str]]:
        sql = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) AND indexdef NOT LIKE 'CREATE UNIQUE %%' "
            "AND indexdef NOT LIKE '%% USING gin %%'"
        )
        return [(name, definition) for name, definition in self.execute(sql, [self.names])]

    def before(self) -> None:
        # Losing the last batches in a crash is fine for demo data; a bigger pending list
        # makes the trigram index take rows in fewer, larger merges.
        self.execute("SET synchronous_commit = off")
        self.execute("SET gin_pending_list_limit = '64MB'")
        super().before()

    def after(self) -> None:
        self.execute("SET maintenance_work_mem = '256MB'")
        super().after()
        for setting in ("maintenance_work_mem", "gin_pending_list_limit", "synchronous_commit"):
            self.execute(f"RESET {setting}")

    def reserve_ids(self, count: int) -> list[int]:
        sql = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
        return [pk for (pk,) in self.execute(sql, [self.names[0], count])]

    def write(self, rows: list[list[Row]]) -> None:
        with self.connection.cursor() as cursor:
            for table, columns, items in zip(self.names, self.columns, rows, strict=True):
                if items:
                    names = ", ".join(self.quote(c) for c in columns)
                    sql = f"COPY {self.quote(table)} ({names}) FROM STDIN"
                    with cursor.cursor.copy(sql) as copy:
                        for row in items:
                            copy.write_row(row)

    def analyze(self) -> None:
        self.execute("ANALYZE " + ", ".join(self.quote(name) for name in self.names))
