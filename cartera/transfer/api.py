"""REST endpoints of the customer import: upload, mapping (which starts the check), report,
run and status. The same services as the wizard; someone else's import is 404."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.customers.api import ErrorOut
from cartera.transfer import services
from cartera.transfer.models import Import

router = Router(tags=["import"])

PolicyCode = Literal["skip", "update_empty", "overwrite", "create"]


class ImportOut(Schema):
    id: int
    file_name: str
    status: str
    status_label: str
    headers: list[str]
    mapping: dict[str, str] = Field(description="Column index (from 0) → field")
    policy: str
    total_rows: int
    valid_rows: int
    invalid_rows: int
    duplicate_rows: int
    rows_read: int = Field(description="Progress of the check or the run, in rows")
    created: int
    updated: int
    skipped: int
    message: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


class RowErrorOut(Schema):
    row: int
    column: str
    value: str
    message: str


class DuplicateOut(Schema):
    row: int
    name: str
    kind: str
    value: str
    customer: int | None = Field(description="The customer matched, when you may see it")
    file_row: int | None = Field(description="The earlier row of the file matched")


class ReportOut(Schema):
    status: str
    total_rows: int
    valid_rows: int
    invalid_rows: int
    duplicate_rows: int
    errors: list[RowErrorOut] = Field(description="The first errors (all are in the error file)")
    duplicates: list[DuplicateOut]


class MappingIn(Schema):
    mapping: dict[str, str] = Field(description="Column index (from 0) → field")
    save_as: str = Field("", max_length=100)


class RunIn(Schema):
    policy: PolicyCode = "skip"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _import(request: HttpRequest, pk: int) -> Import:
    return get_object_or_404(services.imports_of(_user(request)), pk=pk)


def serialize(batch: Import) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "file_name": batch.file_name,
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "headers": batch.headers,
        "mapping": batch.mapping,
        "policy": batch.policy,
        "total_rows": batch.total_rows,
        "valid_rows": batch.valid_rows,
        "invalid_rows": batch.invalid_rows,
        "duplicate_rows": batch.duplicate_rows,
        "rows_read": batch.rows_read,
        "created": batch.created_count,
        "updated": batch.updated_count,
        "skipped": batch.skipped_count,
        "message": batch.message,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }


def _invalid(exc: services.ImportInvalid) -> Status[dict[str, Any]]:
    detail = [
        {"loc": ["body", *field.split(".")], "msg": str(message), "type": "invalid"}
        for field, messages in exc.messages_by_field.items()
        for message in messages
    ]
    return Status(422, {"detail": detail})


@router.post(
    "/imports",
    response={201: ImportOut, 403: ErrorOut, 422: ErrorOut},
    summary="Upload a CSV, XLSX or ODS file of customers; its columns are guessed",
)
def upload_import(request: HttpRequest, file: File[UploadedFile | None] = None) -> Any:
    user = _user(request)
    if not user.can_write:
        raise PermissionDenied
    if file is None:
        return _invalid(services.ImportInvalid({"file": [_("This field is required.")]}))
    try:
        batch = services.create_import(file=file, name=file.name or "import.csv", by=user)
    except services.ImportInvalid as exc:
        return _invalid(exc)
    return Status(201, serialize(batch))


@router.get(
    "/imports/{int:import_id}",
    response={200: ImportOut, 404: ErrorOut},
    summary="An import's status and progress",
)
def get_import(request: HttpRequest, import_id: int) -> Any:
    return serialize(_import(request, import_id))


@router.post(
    "/imports/{int:import_id}/mapping",
    response={200: ImportOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Choose the columns' fields and start the check (dry run) in the background",
)
def set_import_mapping(request: HttpRequest, import_id: int, payload: MappingIn) -> Any:
    batch = _import(request, import_id)
    try:
        services.set_mapping(batch=batch, mapping=payload.mapping, by=_user(request),
                             save_as=payload.save_as)  # fmt: skip
        services.start_check(batch=batch, by=_user(request))
    except services.ImportInvalid as exc:
        return _invalid(exc)
    return serialize(batch)


@router.get(
    "/imports/{int:import_id}/report",
    response={200: ReportOut, 404: ErrorOut},
    summary="The check's result: counts, the first errors and duplicates",
)
def import_report(request: HttpRequest, import_id: int) -> Any:
    batch = _import(request, import_id)
    return {
        "status": batch.status,
        "total_rows": batch.total_rows,
        "valid_rows": batch.valid_rows,
        "invalid_rows": batch.invalid_rows,
        "duplicate_rows": batch.duplicate_rows,
        "errors": batch.errors,
        "duplicates": batch.duplicates,
    }


@router.post(
    "/imports/{int:import_id}/run",
    response={200: ImportOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Import the checked file in the background, with a policy for duplicates",
)
def run_import(request: HttpRequest, import_id: int, payload: RunIn) -> Any:
    batch = _import(request, import_id)
    try:
        services.start_run(batch=batch, by=_user(request), policy=payload.policy)
    except services.ImportInvalid as exc:
        return _invalid(exc)
    return serialize(batch)
