"""Writing a batch of validated rows: customers and what hangs off them, in bulk.

``reserve``, ``prepare`` and ``write`` do for many rows what ``services.create_customer`` does
for one — the same defaults (code from the customer series, currency by country, payment terms
of the group, client since), the same ``search_text`` (``Customer.build_search_text``), the
history (one IMPORT event per customer), the lifecycle log and the timeline — with
plain rows written in bulk (on SQLite many rows per ``INSERT``, and the customers, whose
trigger feeds the search index, in one ``INSERT … SELECT`` from a temporary table; ``COPY`` on
PostgreSQL, as ``cartera.customers.demo.stores`` does) instead of model instances and
``bulk_create``, which cost more than the rest of the import together. Codes and ids are
reserved first (``reserve``), so the rows that point at each other are made in one pass
(``prepare``, which reads no database and can run in a helper process) and written table by
table (``write``). The caller holds the transactions; the search index follows by itself
(SQLite triggers on insert, PostgreSQL's trigram index).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any, NamedTuple

from django.db import connection, models
from django.utils import timezone, translation

from cartera.accounts.models import User
from cartera.activities.models import ChangeField, EntryKind, LifecycleChange, TimelineEntry
from cartera.audit import services as audit
from cartera.audit.models import Action, AuditEvent
from cartera.core.models import Company
from cartera.customers.models import (
    Address,
    ChannelType,
    Contact,
    ContactChannel,
    Customer,
    Stage,
    Tag,
)
from cartera.customers.services import AUDITED_FIELDS, fill_new_customer, take_customer_codes
from cartera.customers.validation import CleanCustomer
from cartera.transfer.duplicates import quick_fold, quick_squash
from cartera.transfer.models import Import, ImportedRow, RowAction

BATCH = 1000  # rows per INSERT statement of ``bulk_create``
ROWS_PER_INSERT = 100  # rows per INSERT statement on SQLite (see ``Table.insert``)


class Table:
    """Plain rows of one model's table: every concrete column, values as the database takes
    them (``row`` fills what is not given with the field's default). Without ``with_id`` the
    id column is left out and the database numbers the rows."""

    def __init__(self, model: type[models.Model], *, with_id: bool = False) -> None:
        self.model = model
        self.with_id = with_id
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.names = [f.attname for f in self.fields]
        self.columns = [str(f.column) for f in self.fields]
        # JSON goes as text, as the fields' own conversion writes it: plain values, so that rows
        # made in a helper process travel back pickled.
        self.json = {f.attname: f.encoder for f in self.fields if isinstance(f, models.JSONField)}
        self.defaults = {f.attname: self._default(f) for f in self.fields}
        # Other values that need converting for the database; the rest go as they are.
        self.prepare = {
            f.attname: f
            for f in self.fields
            if isinstance(f, models.DateTimeField | models.DecimalField)
        }
        self.last: dict[str, tuple[Any, Any]] = {}
        self.triggers: bool | None = None  # whether the table has triggers (SQLite), once known

    def _default(self, field: models.Field[Any, Any]) -> Any:
        value = None
        if field.attname in self.json and field.has_default():
            value = json.dumps(field.get_default(), cls=self.json[field.attname])
        elif field.has_default():
            value = field.get_db_prep_save(field.get_default(), connection)
        if isinstance(field, models.CharField | models.TextField) and not field.null:
            return value or ""
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the model it writes: a process that unpickles rows made in another one
        writes them through its own ``table``, with what it knows of the database."""
        return _table_of, (self.model, self.with_id)

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A row from ready values by attribute name (``customer_id``, not ``customer``)."""
        defaults = self.defaults
        return tuple([values[n] if n in values else defaults[n] for n in self.names])

    def row_of(self, obj: models.Model) -> tuple[Any, ...]:
        """The row of an unsaved instance, whose pk and auto_now fields are already set."""
        values = obj.__dict__  # the columns' values, without the descriptors' lookups
        missing = {name: getattr(obj, name) for name in self.names if name not in values}
        return self.row_from({**values, **missing} if missing else values)

    def row_from(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A row from values by attribute name as a model instance holds them, converted for
        the database (``row`` takes them converted); the field's default where not given."""
        out = []
        prepare, last, defaults, as_json = self.prepare, self.last, self.defaults, self.json
        for name in self.names:
            if name not in values:
                out.append(defaults[name])
                continue
            value = values[name]
            if name in as_json:
                out.append(None if value is None else json.dumps(value, cls=as_json[name]))
                continue
            field = prepare.get(name)
            if field is not None:
                seen = last.get(name)
                if seen is not None and seen[0] is value:  # the same "now" on every row
                    value = seen[1]
                else:
                    prepared = field.get_db_prep_save(value, connection)
                    last[name] = (value, prepared)
                    value = prepared
            out.append(value)
        return tuple(out)

    def reserve_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new rows, taken in the caller's transaction and kept from other
        writers once it commits (PostgreSQL: from the table's sequence; SQLite: the table's
        ``AUTOINCREMENT`` counter moved past them, the transaction holding the write lock)."""
        if not count:
            return []
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [pk for (pk,) in cursor.fetchall()]
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(self.table)}")  # noqa: S608
            (top,) = cursor.fetchone()
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            seq = cursor.fetchone()
            start = max(top, seq[0] if seq else 0) + 1
            last = start + count - 1
            if seq:
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                               [last, self.table])  # fmt: skip
            else:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                               [self.table, last])  # fmt: skip
        return list(range(start, start + count))

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in self.columns)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                sql = f"COPY {quote(self.table)} ({names}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for item in rows:
                        copy.write_row(item)
            return
        connection.ensure_connection()
        raw = connection.connection
        if self._has_triggers(raw):
            self._insert_staged(raw, rows, names)
        else:
            self._insert_grouped(raw, rows, names)

    def _has_triggers(self, raw: sqlite3.Connection) -> bool:
        if self.triggers is None:
            found = raw.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [self.table]
            )
            self.triggers = found.fetchone() is not None
        return self.triggers

    def _insert_staged(self, raw: sqlite3.Connection, rows: Sequence[tuple[Any, ...]],
                       names: str) -> None:  # fmt: skip
        """Every row in one ``INSERT … SELECT`` from a temporary table: the customers table's
        trigger feeds the search index (FTS5), whose work for each statement cost twice the
        rows' own when each row was a statement of its own."""
        quote = connection.ops.quote_name
        target, stage = quote(self.table), quote(f"cartera_stage_{self.table}")
        marks = ", ".join("?" * len(self.columns))
        raw.execute(f"DROP TABLE IF EXISTS temp.{stage}")
        raw.execute(f"CREATE TEMP TABLE {stage} AS SELECT {names} FROM {target} WHERE 0")  # noqa: S608
        raw.executemany(f"INSERT INTO temp.{stage} ({names}) VALUES ({marks})", rows)  # noqa: S608
        raw.execute(f"INSERT INTO {target} ({names}) "  # noqa: S608
                    f"SELECT {names} FROM temp.{stage} ORDER BY rowid")  # fmt: skip
        raw.execute(f"DROP TABLE temp.{stage}")

    def _insert_grouped(self, raw: sqlite3.Connection, rows: Sequence[tuple[Any, ...]],
                        names: str) -> None:  # fmt: skip
        """Up to ``ROWS_PER_INSERT`` rows per statement, in statements of 100, 10 and 1 rows
        (fewer for wide tables): fewer statements to run than rows, and three for SQLite to
        prepare per table rather than one per number of rows."""
        width = len(self.columns)
        per = min(ROWS_PER_INSERT, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
        head = f"INSERT INTO {connection.ops.quote_name(self.table)} ({names}) VALUES "  # noqa: S608
        one = "(" + ", ".join("?" * width) + ")"
        start = 0
        for size in sorted({max(1, per), max(1, per // 10), 1}, reverse=True):
            end = start + (len(rows) - start) // size * size
            if end == start:
                continue
            if size == 1:
                raw.executemany(head + one, rows[start:end])
            else:
                raw.executemany(
                    head + ", ".join([one] * size),
                    ([v for item in rows[at : at + size] for v in item]
                     for at in range(start, end, size)),
                )  # fmt: skip
            start = end


_TABLES: dict[tuple[type[models.Model], bool], Table] = {}


def table(model: type[models.Model], *, with_id: bool = False) -> Table:
    found = _TABLES.get((model, with_id))
    if found is None:
        found = _TABLES[(model, with_id)] = Table(model, with_id=with_id)
    return found


def _table_of(model: type[models.Model], with_id: bool) -> Table:
    return table(model, with_id=with_id)


class _Channel(NamedTuple):
    """What ``build_search_text`` and the history read of a channel not written yet."""

    type: str
    value: str

    def search_form(self) -> str:
        if self.type != ChannelType.PHONE:
            return quick_fold(self.value)  # as the model folds it, faster for plain ASCII
        return str(ContactChannel.search_form(self))  # type: ignore[arg-type]


class _CustomerFields:
    """A new customer's fields by name, as ``Customer(**values)`` would hold them (every
    field's default where none is given, related objects as instances), and its row: plain
    dicts instead of model instances, which cost more than the rest of writing a customer."""

    def __init__(self) -> None:
        concrete = list(Customer._meta.concrete_fields)
        self.defaults = {f.name: f.get_default() for f in concrete}
        # Defaults made afresh for every customer (a new dict for ``custom_data``).
        self.fresh = [f for f in concrete if f.has_default() and callable(f.default)]
        self.relations = [(f.name, f.attname, f.target_field.attname)
                          for f in concrete if isinstance(f, models.ForeignKey)]  # fmt: skip
        self.table = table(Customer, with_id=True)

    def values(self, given: dict[str, Any]) -> dict[str, Any]:
        unknown = given.keys() - self.defaults.keys()
        if unknown:
            raise TypeError(f"Not fields of a customer: {sorted(unknown)}")
        values = dict(self.defaults)
        for f in self.fresh:
            if f.name not in given:
                values[f.name] = f.get_default()
        values.update(given)
        return values

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        columns = dict(values)
        for name, attname, target in self.relations:
            related = columns.pop(name)
            columns[attname] = None if related is None else getattr(related, target)
        return self.table.row_from(columns)


@cache
def _customer_fields() -> _CustomerFields:
    return _CustomerFields()  # on first use: the models are ready by then


def _search_text(
    values: dict[str, Any], channels: list[dict[str, Any]], contacts: list[dict[str, Any]]
) -> str:
    """``customer.build_search_text`` of a customer not written yet (its fields by name), its
    parts in the same order, folded the same way (``quick_fold``: most text is plain ASCII,
    which needs no Unicode normalisation)."""
    parts = [values["code"], values["legal_name"], values["trade_name"], values["first_name"],
             values["last_name"], quick_squash(values["tax_id"] or "")]  # fmt: skip
    for channel in channels:
        parts.append(_Channel(channel.get("type", ""), channel.get("value", "")).search_form())
    for contact in contacts:
        parts.extend([contact.get("first_name", ""), contact.get("last_name", ""),
                      contact.get("email", "")])  # fmt: skip
    return " ".join(quick_fold(p) for p in parts if p)


def _customer(clean: CleanCustomer, *, code: str, context: Context) -> dict[str, Any]:
    """The new customer's fields by name, with the defaults ``services.create_customer`` gives."""
    fields = dict(clean.fields)
    fields["code"] = code
    by, now = context.by, context.now
    fill_new_customer(fields, by=by, company=context.company)
    stamps = {"created_by": by, "updated_by": by, "reviewed_at": now, "created_at": now,
              "updated_at": now, "custom_data": clean.custom_data or {}}  # fmt: skip
    values = _customer_fields().values({**fields, **stamps})
    if values["stage"] == Stage.CLIENT and values["client_since"] is None:
        values["client_since"] = context.today
    return values


def _without_id(items: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in items or []]


Item = tuple[int, CleanCustomer, dict[str, Any]]  # (row, clean data, extra fields)
Related = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


class Reserved(NamedTuple):
    """Codes and ids taken for a chunk's new customers, their contacts and lifecycle changes."""

    codes: list[str]
    customers: list[int]
    contacts: list[int]
    changes: list[int]


def reserve(items: Sequence[Item], company: Company) -> Reserved:
    """Take codes and ids for the items' customers in the caller's transaction. Once it commits
    they stay taken, written or not: a chunk that is not written leaves a gap in the codes."""
    count = len(items)
    contacts = sum(len(clean.contacts or []) for _row, clean, _extra in items)
    return Reserved(
        take_customer_codes(count, company) if count else [],
        table(Customer, with_id=True).reserve_ids(count),
        table(Contact, with_id=True).reserve_ids(contacts),
        table(LifecycleChange, with_id=True).reserve_ids(count),
    )


class Context(NamedTuple):
    """What every row of a run shares, read from the database and the request beforehand."""

    batch_id: int
    file_name: str
    by: User
    company: Company
    now: Any
    event: dict[str, Any]  # the columns of the history's IMPORT event common to every customer
    language: str | None  # the one the history's texts are written in (country names)
    today: Any  # in the active time zone: the client-since date of new clients

    @classmethod
    def of(cls, batch: Import, by: User) -> Context:
        now = timezone.now()
        events = table(AuditEvent)
        # One event made as the services make them (actor, source, request), the rest like it.
        model = audit.event(action=Action.IMPORT, object_type="customer", object_id=None, by=by)
        model.at = now
        event = dict(zip(events.names, events.row_of(model), strict=True))
        return cls(batch.pk, batch.file_name, by, Company.load(), now, event,
                   translation.get_language(), timezone.localdate())  # fmt: skip


class Prepared(NamedTuple):
    """A chunk's new customers as rows, ready for ``write``."""

    customers: list[tuple[Table, list[tuple[Any, ...]]]]  # with channels, addresses, contacts
    tags: tuple[list[int], list[list[str]]]  # customers and the names of their tags
    history: list[tuple[Table, list[tuple[Any, ...]]]]  # events, lifecycle, timeline
    imported: list[tuple[Any, ...]]  # their ``ImportedRow`` rows, written with the chunk


def prepare(items: Sequence[Item], reserved: Reserved, context: Context) -> Prepared:
    """The rows of one customer per item and of everything it needs, as plain values. Reads no
    database (what it needs comes in ``reserved`` and ``context``), so that it can run in a
    helper process while another chunk is written."""
    with translation.override(context.language):
        return _prepare(items, reserved, context)


def _prepare(items: Sequence[Item], reserved: Reserved, context: Context) -> Prepared:
    ids = reserved.customers
    customers: list[dict[str, Any]] = []
    related: list[Related] = []
    for (_row, clean, extra), code, pk in zip(items, reserved.codes, ids, strict=True):
        customer = _customer(clean, code=code, context=context)
        customer["id"] = pk
        customer.update(extra)
        channels = _without_id(clean.channels)
        contacts = _without_id(clean.contacts)
        contacts.sort(key=lambda c: (not c.get("is_primary"), c.get("first_name", ""),
                                     c.get("last_name", "")))  # fmt: skip
        customer["search_text"] = _search_text(customer, channels, contacts)
        customers.append(customer)
        related.append((channels, _without_id(clean.addresses), contacts))
    fields = _customer_fields()
    channel_rows: list[tuple[Any, ...]] = []
    address_rows: list[tuple[Any, ...]] = []
    contact_rows: list[tuple[Any, ...]] = []
    channels_table, addresses_table = table(ContactChannel), table(Address)
    contacts_table = table(Contact, with_id=True)
    contact_ids = iter(reserved.contacts)
    for pk, (channels, addresses, contacts) in zip(ids, related, strict=True):
        for i, item in enumerate(channels):
            channel_rows.append(channels_table.row({**item, "customer_id": pk, "position": i}))
        for item in addresses:
            address_rows.append(addresses_table.row({**item, "customer_id": pk}))
        for item in contacts:
            contact_rows.append(
                contacts_table.row_from({**item, "customer_id": pk, "id": next(contact_ids)})
            )
    imported = table(ImportedRow)
    return Prepared(
        [(fields.table, [fields.row(c) for c in customers]), (channels_table, channel_rows),
         (addresses_table, address_rows), (contacts_table, contact_rows)],
        (ids, [clean.tags or [] for _row, clean, _extra in items]),
        _history(customers, related, reserved.changes, context),
        [imported.row({"batch_id": context.batch_id, "row": row, "customer_id": pk,
                       "action": RowAction.CREATED.value, "version": 1})
         for (row, _clean, _extra), pk in zip(items, ids, strict=True)],
    )  # fmt: skip


def write(prepared: Prepared) -> None:
    """Insert a prepared chunk's rows, in the caller's transaction."""
    for model_table, rows in prepared.customers:
        model_table.insert(rows)
    _tag(*prepared.tags)
    for model_table, rows in prepared.history:
        model_table.insert(rows)


def _tag(customers: Sequence[int], names: Sequence[list[str]]) -> None:
    wanted = {n for tags in names for n in tags}
    if not wanted:
        return
    existing = {t.name.casefold(): t for t in Tag.objects.filter(name__in=sorted(wanted))}
    missing = sorted({n for n in wanted if n.casefold() not in existing}, key=str.casefold)
    for tag in Tag.objects.bulk_create([Tag(name=n) for n in missing]):
        existing.setdefault(tag.name.casefold(), tag)
    if any(t.pk is None for t in existing.values()):  # backends that return no ids
        existing = {t.name.casefold(): t for t in Tag.objects.filter(name__in=sorted(wanted))}
    through = Customer.tags.through
    links = {
        (customer, existing[n.casefold()].pk)
        for customer, tags in zip(customers, names, strict=True)
        for n in tags
    }
    through.objects.bulk_create(
        [through(customer_id=c, tag_id=t) for c, t in sorted(links)], batch_size=BATCH
    )


_ADDRESS_BLANK = {name: "" for name in ("street", "exterior_number", "interior_number",
                  "neighbourhood", "municipality", "locality", "postal_code", "region",
                  "country")}  # fmt: skip


def _address_text(item: dict[str, Any]) -> str:
    """``str(Address)`` of an address not written yet."""
    return ", ".join(Address.lines(SimpleNamespace(**{**_ADDRESS_BLANK, **item})))  # type: ignore[arg-type]


def _created(customer: dict[str, Any], fields: Sequence[str]) -> dict[str, list[Any]]:
    """``audit.diff({}, audit.snapshot(customer, fields))`` of a customer's fields by name, in
    one pass: those not empty, as [None, value]. Text, whole numbers and flags are already
    plain."""
    changes: dict[str, list[Any]] = {}
    for name in fields:
        value = customer[name]
        if value is None:
            continue
        if value.__class__ not in _PLAIN:
            value = audit.plain(value)
        if value not in _EMPTY:
            changes[name] = [None, value]
    return changes


_EMPTY: tuple[Any, ...] = (None, "", [], {})  # what ``audit.diff`` takes for no value
_PLAIN = frozenset([str, bool, int])  # what ``audit.plain`` returns as it is


def _history(
    customers: Sequence[dict[str, Any]],
    related: Sequence[Related],
    change_ids: list[int],
    context: Context,
) -> list[tuple[Table, list[tuple[Any, ...]]]]:
    """The rows of one IMPORT event, one lifecycle change and two timeline lines per customer."""
    fields = AUDITED_FIELDS["customer"]
    events = table(AuditEvent)
    by, now = context.by, context.now
    encoder = AuditEvent._meta.get_field("changes").encoder
    event_rows = []
    for customer, (channels, addresses, contacts) in zip(customers, related, strict=True):
        changes = _created(customer, fields)
        changes["channels"] = [None, [c["value"] for c in channels]]
        if addresses:
            changes["addresses"] = [None, [_address_text(a) for a in addresses]]
        if contacts:
            names = [" ".join(p for p in (c.get("first_name"), c.get("last_name")) if p)
                     for c in contacts]  # fmt: skip
            changes["contacts"] = [None, names]
        changes["import"] = [None, context.file_name]
        event_rows.append(events.row({
            **context.event, "object_id": customer["id"], "customer_id": customer["id"],
            "object_label": str(customer["code"])[:200], "version": customer["version"],
            # What the field's own conversion writes, on both databases, without its detours.
            "changes": json.dumps(changes, cls=encoder),
        }))  # fmt: skip
    changes_table = table(LifecycleChange, with_id=True)
    moment = changes_table.prepare["changed_at"].get_db_prep_save(now, connection)
    change_rows = [
        changes_table.row({"id": pk, "customer_id": c["id"], "field": ChangeField.STAGE.value,
                           "old_value": "", "new_value": c["stage"], "changed_by_id": by.pk,
                           "changed_at": moment})
        for c, pk in zip(customers, change_ids, strict=True)
    ]  # fmt: skip
    entries = table(TimelineEntry)
    occurred = entries.prepare["occurred_at"].get_db_prep_save(now, connection)
    data = json.dumps({"file": context.file_name, "import": context.batch_id})
    empty = json.dumps({})
    rows = []
    for customer, change in zip(customers, change_ids, strict=True):
        common = {"customer_id": customer["id"], "occurred_at": occurred, "actor_id": by.pk}
        rows.append(entries.row({**common, "kind": EntryKind.STAGE.value, "change_id": change,
                                 "data": empty}))  # fmt: skip
        rows.append(entries.row({**common, "kind": EntryKind.IMPORT.value, "data": data}))
    return [(events, event_rows), (changes_table, change_rows), (entries, rows)]
