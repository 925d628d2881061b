"""REST endpoints of the export: the customer list or a segment as CSV, XLSX or vCard,
streamed, through the same services as the export page."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import translation
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.core.schema import Id
from cartera.customers.api import ErrorOut
from cartera.customers.filters import CustomerFilter
from cartera.customers.models import Segment
from cartera.transfer import export
from cartera.transfer.export import ExportInvalid
from cartera.transfer.export_views import export_response

router = Router(tags=["export"])

Format = Literal["csv", "xlsx", "vcf"]
_FILES = {
    200: {
        "description": "The file: text/csv, an XLSX workbook or text/vcard",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
            "text/vcard": {"schema": {"type": "string"}},
        },
    }
}


class ExportParams(Schema):
    format: Format = Field("csv", description="csv, xlsx, or vcf (the customers' contacts)")
    columns: str = Field(
        "",
        max_length=2000,
        description="Comma-separated column keys, in order (see the export page); "
        "the default set when empty. Custom fields are cf_<key>.",
    )
    lang: Literal["es", "en"] | None = Field(
        None,
        description="Headers and formats: es (';', dd/mm/yyyy, decimal comma) or en "
        "(',', ISO dates, decimal point); the user's language by default",
    )


class FilterParams(Schema):
    """The filters of GET /customers (any other filter of the customer list is taken too)."""

    search: str = Field("", max_length=200)
    stage: str = ""
    status: str = ""
    group: Id | None = None
    owner: Id | None = None
    country: str = ""
    region: str = ""
    follow_up: bool | None = None
    tag: str = ""
    archived: bool = False
    sort: Literal[
        "name", "-name", "code", "-code", "created", "-created", "updated", "-updated"
    ] = "name"


_OWN = set(ExportParams.model_fields) | {"search"}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _filters(request: HttpRequest) -> str:
    """The list query string the export's filters stand for ("search" is the list's "q")."""
    known = set(CustomerFilter(user=_user(request)).fields)
    query = QueryDict(mutable=True)
    if request.GET.get("search"):
        query["q"] = request.GET["search"]
    for name in request.GET:
        if name in known and name not in _OWN:
            query.setlist(name, request.GET.getlist(name))
    return export.list_query(query)


def _invalid(exc: ExportInvalid, *, segment: bool) -> Status[dict[str, Any]]:
    """The export's own parameters under "query"; a refused filter under "query" by its API
    name, or, for a segment, under "segment", "query" by its name in the segment's filters."""
    detail = []
    for name, messages in exc.messages_by_field.items():
        if segment and name not in ExportParams.model_fields:
            loc = ["segment", "query", name]
        else:
            loc = ["query", "search" if name == "q" else name]
        detail += [{"loc": loc, "msg": str(m), "type": "invalid"} for m in messages]
    return Status(422, {"detail": detail})


def _run(request: HttpRequest, params: ExportParams, segment: Segment | None) -> Any:
    keys = [k.strip() for k in params.columns.split(",") if k.strip()]
    language = params.lang or translation.get_language() or "es"
    try:
        with translation.override(language):
            item = export.start_export(
                user=_user(request),
                format=params.format,
                columns=keys or list(export.DEFAULT_COLUMNS),
                query="" if segment else _filters(request),
                segment=segment,
                language=language,
            )
            return export_response(item)
    except ExportInvalid as exc:
        return _invalid(exc, segment=segment is not None)


@router.get(
    "/customers/export",
    response={422: ErrorOut},
    summary="Export the customers you may see, filtered like GET /customers (streamed)",
    openapi_extra={"responses": _FILES},
)
def export_customers(
    request: HttpRequest, params: Query[ExportParams], filters: Query[FilterParams]
) -> Any:
    return _run(request, params, None)


@router.get(
    "/segments/{int:segment_id}/export",
    response={404: ErrorOut, 422: ErrorOut},
    summary="Export the customers of a segment you may see (streamed)",
    openapi_extra={"responses": _FILES},
)
def export_segment(request: HttpRequest, segment_id: int, params: Query[ExportParams]) -> Any:
    segment = get_object_or_404(Segment.objects.visible_to(request.user), pk=segment_id)
    return _run(request, params, segment)
