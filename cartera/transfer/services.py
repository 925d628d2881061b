"""Use cases of the import: upload, mapping, check, run, cancel, undo.

The web wizard, the API and ``cartera import`` call these. The check and the run are
background jobs (``transfer.jobs``) that call ``check_now`` and ``run_now``; the command and
the tests call those directly.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cartera.accounts.models import User
from cartera.activities.models import Attachment, EntryKind, Note, Task, TimelineEntry
from cartera.audit import services as audit
from cartera.audit.context import Source, audit_source
from cartera.audit.models import Action
from cartera.core.jobs import refresh_statistics_job
from cartera.customers.models import Customer
from cartera.customers.validation import CustomerInvalid
from cartera.transfer import pipeline, reading
from cartera.transfer.fields import CUSTOM_PREFIX, FIELD_KEYS, fold_header, guess_mapping
from cartera.transfer.models import (
    DuplicatePolicy,
    Import,
    ImportedRow,
    ImportStatus,
    MappingTemplate,
    RowAction,
)

logger = logging.getLogger("cartera.transfer")

HEADER_MAX = 200  # columns read from the header row


class ImportInvalid(CustomerInvalid):
    """The request about an import was refused; errors by field."""


def max_upload_bytes() -> int:
    return int(getattr(settings, "CARTERA_IMPORT_MAX_MB", 50)) * 1024 * 1024


def _check_writer(by: User) -> None:
    if not by.can_write:
        raise PermissionDenied


def imports_of(user: User) -> Any:
    """The imports a user may see: their own; administrators see every one."""
    if user.is_admin:
        return Import.objects.all()
    return Import.objects.filter(created_by=user)


SAMPLE_ROWS = 3  # rows whose values the column step shows under each header


def read_headers(stream: IO[bytes], options: reading.FileOptions) -> tuple[list[str], list[str]]:
    """The column names, and a few of each column's first values ("Madrid, Sevilla")."""
    from cartera.transfer.fields import as_text

    def text(cell: Any, limit: int) -> str:
        return as_text(cell)[:limit].replace("\x00", "\u2400")

    rows = reading.rows(stream, options)
    for _number, cells in rows:
        if reading.is_blank(cells):
            break
        headers = [text(c, 200) for c in cells[:HEADER_MAX]]
        values: list[list[str]] = [[] for _header in headers]
        try:
            for _number, row in itertools.islice(rows, SAMPLE_ROWS):
                for index, cell in enumerate(row[: len(headers)]):
                    if shown := text(cell, 40).strip():
                        values[index].append(shown)
        except reading.ImportFileError:
            pass  # a row that cannot be read is the check's to report, with its number
        return headers, [", ".join(found) for found in values]
    raise reading.ImportFileError(_("The first row must hold the column names."))


@transaction.atomic
def create_import(*, file: Any, name: str, by: User, template: MappingTemplate | None = None
                  ) -> Import:  # fmt: skip
    """Keep an uploaded file, find how to read it and guess its column mapping."""
    _check_writer(by)
    size = getattr(file, "size", None) or 0
    if size > max_upload_bytes():
        raise ImportInvalid({"file": [
            _("The file is larger than %(size)s MB.") % {"size": max_upload_bytes() // 2**20}
        ]})  # fmt: skip
    try:
        options = reading.inspect(file, name)
        headers, sample = read_headers(file, options)
    except reading.ImportFileError as exc:
        raise ImportInvalid({"file": [str(exc)]}) from exc
    if not any(headers):
        raise ImportInvalid({"file": [_("The first row must hold the column names.")]})
    file.seek(0)
    batch = Import(
        file_name=name[:200].replace("\x00", ""),
        file_size=size,
        created_by=by,
        options={**options.as_dict(), "sample": sample},
        headers=headers,
    )
    batch.mapping = guess_mapping(headers, template.columns if template else None)
    batch.file.save(f"import{_suffix(options.format)}", File(file), save=False)
    batch.save()
    audit.record(action=Action.CREATE, object_type="import", object_id=batch.pk, label=name,
                 by=by, changes={"file": [None, name]})  # fmt: skip
    return batch


def _suffix(kind: str) -> str:
    return {"xlsx": ".xlsx", "ods": ".ods"}.get(kind, ".csv")


def _editable(batch: Import, by: User) -> None:
    if batch.created_by_id != by.pk and not by.is_admin:
        raise PermissionDenied
    if batch.is_active or batch.status in (ImportStatus.DONE, ImportStatus.UNDONE):
        raise ImportInvalid({"__all__": [_("This import cannot be changed any more.")]})


def clean_mapping(batch: Import, mapping: Mapping[str, str]) -> dict[str, str]:
    """Only real columns and fields, each field once; the legal name (or a name) required."""
    from cartera.customers.models import CustomField

    customs = {CUSTOM_PREFIX + k for k in CustomField.objects.filter(is_active=True)
               .values_list("key", flat=True)}  # fmt: skip
    out: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    headers = batch.headers
    for column, key in mapping.items():
        if not key:
            continue
        text = str(column)
        # the file's column numbers, as ASCII digits: "²" is a digit to Python, not a column
        if not (text.isascii() and text.isdigit() and len(text) < 7) or int(text) >= len(headers):
            errors.setdefault("mapping", []).append(
                _("There is no column %(n)s.") % {"n": text[:20]}
            )
            continue
        index = str(int(text))
        header = headers[int(index)]
        if key not in FIELD_KEYS and key not in customs:
            errors.setdefault(f"mapping.{index}", []).append(
                _("Column “%(column)s”: choose a field of the list.") % {"column": header}
            )
        elif index in out:
            errors.setdefault(f"mapping.{index}", []).append(
                _("Column “%(column)s” is given twice.") % {"column": header}
            )
        elif key in out.values():
            first = next(headers[int(i)] for i, k in out.items() if k == key)
            errors.setdefault(f"mapping.{index}", []).append(
                _("“%(first)s” and “%(second)s” cannot both fill the same field.")
                % {"first": first, "second": header}
            )
        else:
            out[index] = key
    if not errors and not set(out.values()) & {"legal_name", "first_name", "last_name"}:
        errors["mapping"] = [_("Choose the column with the customer's name (legal name).")]
    if errors:
        raise ImportInvalid(errors)
    return out


def template_name(text: str) -> str:
    """The name a mapping is saved under, as typed but for control characters."""
    return text.replace("\x00", "").strip()[:100]


@transaction.atomic
def set_mapping(
    *, batch: Import, mapping: Mapping[str, str], by: User, save_as: str = ""
) -> Import:
    """Choose which column fills which field; optionally keep it as a template."""
    _editable(batch, by)
    batch.mapping = clean_mapping(batch, mapping)
    batch.status = ImportStatus.UPLOADED
    batch.save(update_fields=["mapping", "status"])
    save_as = template_name(save_as)
    if save_as:
        columns = {fold_header(batch.headers[int(i)]): key for i, key in batch.mapping.items()}
        MappingTemplate.objects.update_or_create(
            created_by=by, name=save_as, defaults={"columns": columns}
        )
    return batch


def start_check(*, batch: Import, by: User) -> Import:
    """Queue the dry run (the background worker runs it)."""
    from cartera.transfer.jobs import check_import

    _editable(batch, by)
    if not batch.mapping:
        raise ImportInvalid({"mapping": [_("Choose the columns first.")]})
    _queue(batch, ImportStatus.CHECKING, lambda: check_import.enqueue(batch.pk))
    return batch


def start_run(*, batch: Import, by: User, policy: str) -> Import:
    """Queue the import of the checked file, with what to do with duplicates."""
    from cartera.transfer.jobs import run_import

    _editable(batch, by)
    if batch.status != ImportStatus.CHECKED:
        raise ImportInvalid({"__all__": [_("Check the file before importing it.")]})
    if policy not in DuplicatePolicy.values:
        raise ImportInvalid({"policy": [_("Select a valid choice.")]})
    batch.policy = policy
    batch.save(update_fields=["policy"])
    _queue(batch, ImportStatus.QUEUED, lambda: run_import.enqueue(batch.pk))
    return batch


def _queue(batch: Import, status: str, enqueue: Callable[[], Any]) -> None:
    with transaction.atomic():
        batch.status = status
        batch.cancel_requested = False
        batch.rows_read = 0
        batch.message = ""
        batch.save(update_fields=["status", "cancel_requested", "rows_read", "message"])

        def send() -> None:
            result = enqueue()
            Import.objects.filter(pk=batch.pk).update(task_id=str(result.id))

        transaction.on_commit(send)


def cancel(*, batch: Import, by: User) -> Import:
    """Ask a running check or import to stop after its current chunk (queued ones stop now)."""
    if batch.created_by_id != by.pk and not by.is_admin:
        raise PermissionDenied
    if not batch.is_active:
        raise ImportInvalid({"__all__": [_("Only a running import can be cancelled.")]})
    Import.objects.filter(pk=batch.pk).update(cancel_requested=True)
    if batch.status == ImportStatus.QUEUED:
        Import.objects.filter(pk=batch.pk, status=ImportStatus.QUEUED).update(
            status=ImportStatus.CANCELLED
        )
    batch.refresh_from_db()
    return batch


# --- The passes, run here (by the worker, the command or a test) --------------------------------


def check_now(batch: Import, *, progress: Callable[[int], None] | None = None) -> Import:
    """Run the dry run in this process and record its outcome on the import."""
    by = batch.created_by
    Import.objects.filter(pk=batch.pk).update(
        status=ImportStatus.CHECKING, started_at=timezone.now()
    )
    batch.refresh_from_db()
    try:
        pipeline.check_file(batch, by=by, progress=progress)
    except pipeline.Cancelled:
        _finish(batch, ImportStatus.CANCELLED)
        return batch
    except reading.ImportFileError as exc:
        _finish(batch, ImportStatus.FAILED, str(exc))
        return batch
    _finish(batch, ImportStatus.CHECKED, finished=False)
    return batch


def run_now(batch: Import, *, progress: Callable[[int], None] | None = None) -> Import:
    """Import the checked rows in this process; resumes where an interrupted run stopped."""
    by = batch.created_by
    if not by.can_write or not by.is_active:
        _finish(
            batch, ImportStatus.FAILED, _("The user who started the import can no longer write.")
        )
        return batch
    Import.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING, started_at=batch.started_at or timezone.now()
    )
    batch.refresh_from_db()
    if batch.next_row == 0:
        Import.objects.filter(pk=batch.pk).update(rows_read=0)
        batch.rows_read = 0
    try:
        with audit_source(Source.IMPORT):
            pipeline.run_import(batch, by=by, progress=progress)
    except pipeline.Cancelled:
        _finish(batch, ImportStatus.CANCELLED)
        return batch
    except reading.ImportFileError as exc:
        _finish(batch, ImportStatus.FAILED, str(exc))
        return batch
    _finish(batch, ImportStatus.DONE)
    # The register may have grown many times over: SQLite's planner needs to know (a job, so
    # that the import ends without waiting for it).
    refresh_statistics_job.enqueue()
    batch.refresh_from_db()
    audit.record(action=Action.IMPORT, object_type="import", object_id=batch.pk,
                 label=batch.file_name, by=by,
                 changes={"created": [None, batch.created_count],
                          "updated": [None, batch.updated_count],
                          "skipped": [None, batch.skipped_count]})  # fmt: skip
    return batch


def _finish(batch: Import, status: str, message: str = "", *, finished: bool = True) -> None:
    values: dict[str, Any] = {"status": status, "message": message[:2000]}
    if finished:
        values["finished_at"] = timezone.now()
    Import.objects.filter(pk=batch.pk).update(**values)
    batch.refresh_from_db()


def fail_unexpectedly(batch: Import) -> None:
    """Mark an import failed after an error its job did not expect (the job keeps the details
    for administrators), so that it does not stay checking or running for ever. A run so
    failed can be resumed: retrying its job, or ``cartera import --resume ID``."""
    batch.refresh_from_db(fields=["status", "created_count", "options"])
    if batch.status == ImportStatus.CHECKING:
        message = _("The check stopped on an unexpected error; nothing was written.")
        options = batch.options
    elif batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        message = ngettext(
            "The import stopped on an unexpected error after creating %(count)s customer; "
            "it can be undone, or resumed by retrying the job.",
            "The import stopped on an unexpected error after creating %(count)s customers; "
            "they can be undone, or the import resumed by retrying the job.",
            batch.created_count,
        ) % {"count": batch.created_count}
        options = {**batch.options, "resumable": True}
    else:
        return  # it ended meanwhile (the error came after): its status stays
    updated = Import.objects.filter(pk=batch.pk, status=batch.status).update(
        status=ImportStatus.FAILED, message=message[:2000], finished_at=timezone.now(),
        options=options,
    )  # fmt: skip
    if updated:
        batch.refresh_from_db()


# --- Undo --------------------------------------------------------------------------------------


def changed_since(batch: Import) -> list[Customer]:
    """The customers the import created that someone changed or used since."""
    created = ImportedRow.objects.filter(batch=batch, action=RowAction.CREATED)
    ids = list(created.values_list("customer_id", flat=True))
    touched = set(created.exclude(customer__version=1).values_list("customer_id", flat=True))
    for model in (Task, Note, Attachment):
        used = model.objects.filter(customer_id__in=ids)
        touched |= set(used.values_list("customer_id", flat=True))
    touched |= set(
        TimelineEntry.objects.filter(customer_id__in=ids)
        .exclude(Q(kind=EntryKind.IMPORT) | Q(kind=EntryKind.STAGE, change__old_value=""))
        .values_list("customer_id", flat=True)
    )
    return list(Customer.objects.filter(pk__in=touched).only("id", "code", "legal_name")[:200])


@transaction.atomic
def undo(*, batch: Import, by: User) -> int:
    """Delete the customers an import created, if nobody changed them since; how many."""
    if batch.created_by_id != by.pk and not by.is_admin:
        raise PermissionDenied
    batch = Import.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportStatus.DONE, ImportStatus.CANCELLED, ImportStatus.FAILED):
        raise ImportInvalid({"__all__": [_("Only a finished import can be undone.")]})
    changed = changed_since(batch)
    if changed:
        names = ", ".join(c.code for c in changed[:20])
        raise ImportInvalid({"__all__": [
            _("These customers changed since the import, so it cannot be undone: %(codes)s.")
            % {"codes": names}
        ]})  # fmt: skip
    rows = ImportedRow.objects.filter(batch=batch, action=RowAction.CREATED)
    ids = list(rows.filter(customer__isnull=False).values_list("customer_id", flat=True))
    events = []
    for pk, code in Customer.objects.filter(pk__in=ids).values_list("pk", "code"):
        events.append(audit.event(action=Action.DELETE, object_type="customer", object_id=pk,
                                  label=code, customer_id=pk, by=by,
                                  changes={"import": [batch.file_name, None]}))  # fmt: skip
    audit.record_all(events)
    deleted = 0
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        deleted += Customer.objects.filter(pk__in=part).delete()[1].get("customers.Customer", 0)
    batch.status = ImportStatus.UNDONE
    batch.save(update_fields=["status"])
    audit.record(action=Action.DELETE, object_type="import", object_id=batch.pk,
                 label=batch.file_name, by=by, changes={"customers": [len(ids), 0]})  # fmt: skip
    return deleted
