"""The two passes over a file: the check (dry run) and the import.

Both read the file in chunks of ``CHUNK`` rows and check every row with the register's
own validator (``validate_customer``, the same rules as the forms), then look for
duplicates set-based. The check writes nothing but the report (counts, the first errors
and duplicates, and a CSV of the invalid rows with their errors). The import writes each
chunk in one transaction of bulk inserts, together with the row the next chunk starts at:
a run killed half-way resumes at that row and writes no row twice (committed batches, not
all-or-nothing).
"""

from __future__ import annotations

import csv
import functools
import gc
import io
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.core.db import commit_without_waiting_for_disk
from cartera.core.phones import PhoneError, normalize_phone
from cartera.core.spreadsheets import neutralise
from cartera.customers import services as customer_services
from cartera.customers.models import ChannelType, Customer
from cartera.customers.validation import (
    CleanCustomer,
    CustomerInvalid,
    country_hint,
    validate_customer,
)
from cartera.transfer import checked, parallel, reading, writing
from cartera.transfer.duplicates import BatchLookups, Match, Matcher
from cartera.transfer.fields import FIELDS, Converter, Lists, column_for_path
from cartera.transfer.models import DuplicatePolicy, Import, ImportedRow, ImportStatus, RowAction

logger = logging.getLogger("cartera.transfer")

# Rows checked and written at once (one transaction per chunk when importing).
CHUNK = max(1, int(os.environ.get("CARTERA_IMPORT_CHUNK", "2000")))
LABELS = {f.key: f.label for f in FIELDS}
SHOWN_ERRORS = 200  # errors kept on the import for the page and the API (all go to the file)
SHOWN_DUPLICATES = 100


class Cancelled(Exception):
    """Someone asked the import to stop."""


@dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": printable(self.column),
                "value": printable(self.value), "message": self.message}  # fmt: skip


def printable(text: str) -> str:
    """Text that JSON in PostgreSQL can hold: a NUL is shown as a visible symbol."""
    return text.replace("\x00", "\u2400")


@dataclass
class Checked:
    """One row after the checks: valid (``clean``) or not (``errors``), maybe a duplicate."""

    row: int
    cells: list[Any]
    clean: CleanCustomer | None = None
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    match: Match | None = None


class Checker:
    """Checks chunks of one file's rows against the register, remembering the file so far."""

    def __init__(self, batch: Import, *, by: User) -> None:
        self.batch = batch
        self.by = by
        self.headers = [str(h) for h in batch.headers]
        self.converter = Converter(
            batch.mapping, decimal=batch.options.get("decimal", ","), lists=Lists(), by=by
        )
        self.columns = {key: int(i) for i, key in batch.mapping.items()}
        self.lookups = BatchLookups()
        self.matcher = Matcher()

    def header_of(self, key: str) -> str:
        index = self.columns.get(key)
        if index is None or index >= len(self.headers):
            return key
        return self.headers[index]

    def cell(self, cells: list[Any], key: str) -> str:
        from cartera.transfer.fields import as_text

        index = self.columns.get(key)
        return as_text(cells[index]) if index is not None and index < len(cells) else ""

    def check(self, chunk: list[tuple[int, list[Any]]]) -> list[Checked]:
        return self.match(self.validate(chunk))

    def validate(self, chunk: list[tuple[int, list[Any]]]) -> list[Checked]:
        """The chunk's rows (blank ones left out) converted and validated, each on its own."""
        rows = [Checked(row=n, cells=cells) for n, cells in chunk if not reading.is_blank(cells)]
        for item in rows:
            item.data, cell_errors = self.converter.convert(item.cells)
            for key, message in cell_errors.items():
                item.errors.append(self._error(item, key, message))
                item.data.pop(key, None)
        self.lookups.prefetch(str(r.data.get("tax_id", "")) for r in rows)
        for item in rows:
            self._validate(item)
        return rows

    def match(self, rows: list[Checked]) -> list[Checked]:
        """The validated rows with what each duplicates (the file's earlier rows included: the
        chunks must come in the file's order)."""
        valid = [(r.row, r.clean) for r in rows if r.clean is not None and r.match is None]
        matches = self.matcher.match_chunk(valid)
        for item in rows:
            item.match = item.match or matches.get(item.row)
        return rows

    def _error(self, item: Checked, key: str, message: str) -> RowError:
        column = self.header_of(key) if key in self.columns else str(LABELS.get(key, key))
        return RowError(item.row, column, self.cell(item.cells, key), message)

    def _validate(self, item: Checked) -> None:
        try:
            clean = validate_customer(item.data, instance=None, lookups=self.lookups)
            customer_services._check_owner(clean, by=self.by, instance=None)
        except CustomerInvalid as exc:
            by_field = exc.messages_by_field
            if exc.duplicate is not None and list(by_field) == ["tax_id"] and not item.errors:
                item.clean = CleanCustomer(fields=dict(item.data))
                item.match = Match("tax_id", str(item.data.get("tax_id", "")),
                                   customer_id=exc.duplicate.pk)  # fmt: skip
                return
            present = set(self.columns)
            for path, messages in by_field.items():
                key = column_for_path(path, present)
                if key == "channels":
                    key = _channel_source(item.data, path)
                for message in messages:
                    error = self._error(item, key, message)
                    if error not in item.errors:  # one country refused as address and tax one
                        item.errors.append(error)
            return
        if not item.errors:
            item.clean = clean


def _channel_source(data: dict[str, Any], path: str) -> str:
    """The column a channel's error is about ("channels.1.value" → "email")."""
    parts = path.split(".")
    channels = data.get("channels") or []
    if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(channels):
        return str(channels[int(parts[1])].get("source", "channels"))
    return "phone" if any(c.get("source") == "phone" for c in channels) else "email"


# --- Passes -----------------------------------------------------------------------------------


def _chunks(batch: Import, start: int = 0) -> Iterator[list[tuple[int, list[Any]]]]:
    options = reading.FileOptions.from_dict(batch.options)
    with batch.file.open("rb") as stream:
        numbered = reading.rows(stream, options)
        try:
            next(numbered, None)  # the header
            wanted = ((n, cells) for n, cells in numbered if n >= start)
            yield from reading.chunked(wanted, CHUNK)
        finally:
            numbered.close()  # a pass that stops early: the reader lets go while the file is open


def _set(batch: Import, **values: Any) -> None:
    Import.objects.filter(pk=batch.pk).update(**values)
    for name, value in values.items():
        if not hasattr(value, "resolve_expression"):
            setattr(batch, name, value)


def _stop_if_asked(batch: Import) -> None:
    """What a pass asks before each chunk: raises ``Cancelled`` once a stop is requested."""
    if Import.objects.filter(pk=batch.pk, cancel_requested=True).exists():
        raise Cancelled


GC_YOUNG = 50_000  # allocations between two collections of young objects during a pass


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often while a pass runs: it makes millions of short-lived
    objects, freed as they go, while what it keeps (the file's keys, the register's names)
    grows, and the collector's default pace (every 700 allocations) spent more time going over
    them than it freed. Cycles are still collected, in fewer, larger rounds."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_YOUNG), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def check_file(batch: Import, *, by: User, progress: Callable[[int], None] | None = None) -> None:
    """The dry run: count valid, invalid and duplicate rows, keep the report. Writes no customer."""
    checker = Checker(batch, by=by)
    kept = checked.Writer()
    try:
        with _fewer_collections():
            _check_file(batch, checker, kept, progress)
    except BaseException:
        kept.discard()
        raise
    finally:
        checker.matcher.close()  # the file's keys, kept while the pass ran
    checked.forget(batch)
    options = {**batch.options, "checked": kept.save(batch, by)}
    _set(batch, options=options)


def _check_file(
    batch: Import,
    checker: Checker,
    kept: checked.Writer,
    progress: Callable[[int], None] | None,
) -> None:
    by = checker.by
    errors: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    counts = {"total": 0, "valid": 0, "invalid": 0, "duplicate": 0}
    invalid_out = io.StringIO()
    writer = csv.writer(invalid_out, delimiter=";")
    writer.writerow([*[_csv_cell(h) for h in checker.headers], _("Row"), _("Errors")])
    stop = functools.partial(_stop_if_asked, batch)
    for chunk, validated in parallel.validated(checker, _chunks(batch), stop=stop):
        items = checker.match(validated)
        kept.add(chunk[-1][0] + 1, [_stored(item) for item in items])
        for item in items:
            counts["total"] += 1
            if item.errors:
                counts["invalid"] += 1
                errors += [e.as_dict() for e in item.errors][: SHOWN_ERRORS - len(errors)]
                reasons = " | ".join(f"{e.column}: {e.message}" for e in item.errors)
                cells = [_csv_cell(c) for c in item.cells]
                writer.writerow([*cells, item.row, _csv_cell(reasons)])
            else:
                counts["valid"] += 1
                if item.match is not None:
                    counts["duplicate"] += 1
                    if len(duplicates) < SHOWN_DUPLICATES:
                        duplicates.append(_duplicate(item, checker))
        _set(batch, rows_read=counts["total"])
        if progress:
            progress(counts["total"])
    _attach_duplicates(duplicates, by)
    error_file = ContentFile(("\ufeff" + invalid_out.getvalue()).encode("utf-8"))
    if batch.error_file:
        batch.error_file.delete(save=False)
    if counts["invalid"]:
        batch.error_file.save(f"errores-{batch.pk}.csv", error_file, save=False)
    _set(
        batch,
        total_rows=counts["total"],
        valid_rows=counts["valid"],
        invalid_rows=counts["invalid"],
        duplicate_rows=counts["duplicate"],
        errors=errors,
        duplicates=duplicates,
        error_file=batch.error_file.name or "",
    )


def _stored(item: Checked) -> checked.Stored:
    """What the run needs of a checked row: an invalid one is only skipped, a new customer
    needs its clean data (and the client-since date), a duplicate the row's data to update."""
    if item.errors:
        return (item.row, None, {}, None)
    data = item.data if item.match is not None else _extra(item)
    return (item.row, item.clean, data, item.match)


_PLAIN_NUMBER = re.compile(r"-?[0-9][0-9.,]*")


def _csv_cell(value: Any) -> str:
    """A cell of the error file: a spreadsheet would run none of it (a negative number stays
    a number, to upload again as it was)."""
    from cartera.transfer.fields import as_text

    text = as_text(value)
    return text if _PLAIN_NUMBER.fullmatch(text) else neutralise(text)


def _duplicate(item: Checked, checker: Checker) -> dict[str, Any]:
    assert item.match is not None
    name = str((item.clean.fields if item.clean else item.data).get("legal_name", ""))
    match = item.match.as_dict()
    match["value"] = printable(str(match["value"]))
    return {"row": item.row, "name": printable(name), **match}


def _attach_duplicates(duplicates: list[dict[str, Any]], by: User) -> None:
    """Name the matched customers the user may see (the others stay anonymous)."""
    ids = {d["customer"] for d in duplicates if d["customer"]}
    visible = {
        c.pk: (c.code, c.display_name)
        for c in Customer.objects.visible_to(by)
        .filter(pk__in=ids)
        .only("id", "code", "legal_name", "trade_name")
    }
    for item in duplicates:
        code, name = visible.get(item["customer"], ("", ""))
        item["customer_code"], item["customer_name"] = code, name
        if item["customer"] and not code:
            item["customer"] = None  # not the user's to see: do not tell which one


def run_import(batch: Import, *, by: User, progress: Callable[[int], None] | None = None) -> None:
    """Write the file's valid rows, chunk by chunk from ``batch.next_row`` (resumable): the
    rows as the check left them, or checked again when that cannot be trusted any more."""
    with _fewer_collections():
        _run_import(batch, by=by, progress=progress)


def _run_import(batch: Import, *, by: User, progress: Callable[[int], None] | None) -> None:
    kept = checked.read(batch, by)
    if kept is not None:
        _run_checked(batch, kept, by=by, progress=progress)
        checked.forget(batch)  # every row is written: the kept rows are not needed any more
        _set(batch, options={k: v for k, v in batch.options.items() if k != "checked"})
        return
    checker = Checker(batch, by=by)
    try:
        # Here, not in helpers: each chunk must see the customers the chunks before it wrote.
        for chunk in _chunks(batch, start=batch.next_row):
            _stop_if_asked(batch)
            plan = _plan(batch, checker.check(chunk))
            claimed = _claim(batch, plan, chunk[-1][0] + 1, by=by)
            if claimed is not None:
                prepared = writing.prepare(plan.creates, *claimed)
                _write_chunk(batch, plan, prepared, chunk[-1][0] + 1, by=by)
            if progress:
                progress(batch.next_row - 1)  # the last row written
    finally:
        checker.matcher.close()


def _run_checked(
    batch: Import,
    kept: Iterator[tuple[int, list[checked.Stored]]],
    *,
    by: User,
    progress: Callable[[int], None] | None,
) -> None:
    """Write the rows the check kept. In a large file each chunk's rows are made in a helper
    process while the chunk before is written (``parallel.Preparer``); but with a policy that
    updates existing customers, a chunk is looked up again only once the one before is written,
    as an update may give a customer a later row's e-mail or phone."""
    overlap = batch.policy not in (DuplicatePolicy.UPDATE_EMPTY, DuplicatePolicy.OVERWRITE)
    pending: _Pending | None = None
    left = batch.valid_rows - batch.created_count if overlap else 0  # else nothing to overlap
    with parallel.Preparer(left) as preparer:
        for next_row, stored in kept:
            if next_row <= batch.next_row:
                continue  # written before the run was interrupted
            if pending is not None and not overlap:
                _write_pending(batch, preparer, pending, by=by, progress=progress)
                pending = None
            _stop_if_asked(batch)
            rows = checked.recheck([r for r in stored if r[0] >= batch.next_row])
            plan = _plan(batch, [Checked(row=row, cells=[], clean=clean, data=data, match=match)
                                 for row, clean, data, match in rows])  # fmt: skip
            claimed = _claim(batch, plan, next_row, by=by)
            made = None
            if claimed is not None:  # handed on before the chunk before is written
                args = (plan.creates, *claimed)
                made = (plan, args, preparer.submit(*args), next_row)
            if pending is not None:
                _write_pending(batch, preparer, pending, by=by, progress=progress)
            pending = made
        if pending is not None:
            _write_pending(batch, preparer, pending, by=by, progress=progress)


# A chunk being made: its plan, what ``prepare`` takes, the preparer's handle, its next row.
_Pending = tuple["_Plan", tuple[Any, ...], Any, int]


def _claim(
    batch: Import, plan: _Plan, next_row: int, *, by: User
) -> tuple[writing.Reserved, writing.Context] | None:
    """Codes and ids for a chunk's new customers, taken in a transaction of their own; None
    when the chunk is no longer this run's to write (written by another run, or the import
    stopped), so that nothing is taken for it."""
    with transaction.atomic():
        commit_without_waiting_for_disk()  # the chunk's own commit makes them durable
        if not _still_ours(batch, next_row):
            return None
        context = writing.Context.of(batch, by)
        return writing.reserve(plan.creates, context.company), context


def _still_ours(batch: Import, next_row: int) -> bool:
    """Whether the chunk ending before ``next_row`` is still this run's to write (not written
    by another run, the import running); the import stays locked until the transaction ends."""
    locked = Import.objects.select_for_update().only("next_row", "status").get(pk=batch.pk)
    return locked.next_row < next_row and locked.status == ImportStatus.RUNNING


def _write_pending(
    batch: Import,
    preparer: parallel.Preparer,
    pending: _Pending,
    *,
    by: User,
    progress: Callable[[int], None] | None,
) -> None:
    plan, args, handle, next_row = pending
    _write_chunk(batch, plan, preparer.result(handle, args), next_row, by=by)
    if progress:
        progress(batch.next_row - 1)


@dataclass
class _Plan:
    """What a chunk's checked rows come to under the import's policy."""

    rows: int
    creates: list[writing.Item] = field(default_factory=list)
    updates: list[tuple[Checked, int]] = field(default_factory=list)
    skipped: int = 0


def _plan(batch: Import, items: list[Checked]) -> _Plan:
    policy = batch.policy
    plan = _Plan(rows=len(items))
    for item in items:
        if item.clean is None:
            plan.skipped += 1
        elif item.match is None:
            plan.creates.append((item.row, item.clean, _extra(item)))
        elif item.match.customer_id and policy in (
            DuplicatePolicy.UPDATE_EMPTY,
            DuplicatePolicy.OVERWRITE,
        ):
            plan.updates.append((item, item.match.customer_id))
        elif policy == DuplicatePolicy.CREATE and item.match.kind != "tax_id":
            plan.creates.append((item.row, item.clean, _extra(item)))
        else:
            plan.skipped += 1
    return plan


def _write_chunk(
    batch: Import, plan: _Plan, prepared: writing.Prepared, next_row: int, *, by: User
) -> None:
    skipped = plan.skipped
    with transaction.atomic():
        commit_without_waiting_for_disk()  # safe: the next row is recorded in this transaction
        if not _still_ours(batch, next_row):
            return  # another run wrote this chunk already, or the import was stopped
        writing.write(prepared)
        done: list[Any] = list(prepared.imported)
        updated = 0
        refused: list[dict[str, Any]] = []
        for item, customer_id in plan.updates:
            row = _update(item, customer_id, batch=batch, by=by)
            if isinstance(row, ImportedRow):
                done.append(row)
                updated += 1
            else:
                skipped += 1
                if row:  # why the customer could not be updated, beside the check's errors
                    refused.append(RowError(item.row, "", "", row).as_dict())
        if refused:  # kept apart from the check's errors, shown with the result
            batch.refresh_from_db(fields=["options"])
            kept = batch.options.get("refused", [])
            _set(batch, options={**batch.options, "refused": (kept + refused)[:SHOWN_ERRORS]})
        imported = writing.table(ImportedRow)
        imported.insert([imported.row_of(row) if isinstance(row, ImportedRow) else row
                         for row in done])  # fmt: skip
        _set(
            batch,
            next_row=next_row,
            rows_read=F("rows_read") + plan.rows,
            created_count=F("created_count") + len(plan.creates),
            updated_count=F("updated_count") + updated,
            skipped_count=F("skipped_count") + skipped,
        )
    batch.refresh_from_db(fields=["rows_read", "created_count", "updated_count", "skipped_count"])


def _extra(item: Checked) -> dict[str, Any]:
    """Fields the validator does not handle but the file gives (client since)."""
    since = item.data.get("client_since")  # the check keeps only this of a new row's data
    return {"client_since": since} if since else {}


def _update(item: Checked, customer_id: int, *, batch: Import, by: User) -> ImportedRow | str:
    """Fill (or overwrite) an existing customer's fields from the row through the register's
    own update service; else why not ("" when the row has nothing to add)."""
    customer = Customer.objects.editable_by(by).filter(pk=customer_id).first()
    if customer is None:
        return _("Not updated: you may not change the customer this row duplicates.")
    data = _update_data(item.data, customer, overwrite=batch.policy == DuplicatePolicy.OVERWRITE)
    if not data:
        return ""
    try:
        with transaction.atomic():
            customer = customer_services.update_customer(customer=customer, data=data, by=by)
    except PermissionDenied:
        return _("Not updated: you may not change the customer this row duplicates.")
    except CustomerInvalid as exc:
        mapped = set(batch.mapping.values())
        reasons = " ".join(f"{_label(path, mapped)}: {' '.join(messages)}"
                           for path, messages in exc.messages_by_field.items())  # fmt: skip
        return _("Customer %(code)s not updated. %(reasons)s") % {
            "code": customer.code, "reasons": reasons}  # fmt: skip
    return ImportedRow(batch=batch, row=item.row, customer=customer, action=RowAction.UPDATED,
                       version=customer.version)  # fmt: skip


def _label(path: str, mapped: set[str]) -> str:
    """The field an error of the register's validator is about, by its name in the import."""
    key = column_for_path(path, mapped)
    return str(LABELS.get(key, key))


def _update_data(row: dict[str, Any], customer: Customer, *, overwrite: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in row.items():
        if name in ("channels", "addresses", "contacts", "owner", "custom_data", "tags"):
            continue
        if name not in {f.name for f in Customer._meta.fields} or value in (None, ""):
            continue
        current = getattr(customer, name)
        if overwrite or current in (None, ""):
            data[name] = value
    if "stage" in data and data["stage"] == customer.stage:
        data.pop("stage")
    known = {c.value.lower() for c in customer.channels.all()}
    region = country_hint(row, row.get("tax_country") or customer.tax_country)
    new = []
    for channel in row.get("channels", []):
        key = _channel_key(channel, region)
        if key not in known:  # a phone as the register keeps it: "681 91 98 79" is +34681919879
            known.add(key)
            new.append(channel)
    if new:
        data["channels"] = [
            {"id": c.pk, "type": c.type, "label": c.label, "value": c.value,
             "is_primary": c.is_primary} for c in customer.channels.all()
        ] + [{**c, "is_primary": False} for c in new]  # fmt: skip
    addresses = row.get("addresses") or []
    existing = list(customer.addresses.all())
    if addresses and (overwrite or not any(a.type == "fiscal" for a in existing)):
        fields = [k for k in addresses[0] if k != "id"]
        kept = [{"id": a.pk, **{k: getattr(a, k) for k in fields}} for a in existing]
        fiscal = next((a for a in kept if a["type"] == "fiscal"), None)
        if fiscal is not None:
            fiscal.update(addresses[0], id=fiscal["id"])  # changed in place
        else:
            kept.append(addresses[0])
        data["addresses"] = kept
    return data


def _channel_key(channel: dict[str, Any], region: str | None) -> str:
    value = str(channel.get("value", "")).strip()
    if channel.get("type") == ChannelType.PHONE:
        try:
            return normalize_phone(value, region).lower()
        except PhoneError:
            pass
    return value.lower()
