"""REST endpoints of segments (saved filters) and of bulk actions on customers."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.core.models import Company
from cartera.core.pagination import count_up_to
from cartera.core.schema import Text
from cartera.customers import bulk, segments
from cartera.customers.api import MAX_PAGE, CustomerPage, ErrorOut, error_location, serialize
from cartera.customers.models import Segment
from cartera.customers.queries import customer_list_queryset
from cartera.customers.validation import CustomerInvalid

router = Router(tags=["segments"])


class SegmentIn(Schema):
    name: Text = Field(max_length=100)
    query: Text = Field(
        max_length=segments.MAX_QUERY_LENGTH,
        description="The customer list's filters as a URL query string, e.g. "
        "`stage=client&country=ES&tag=vip` (paging and sorting are dropped)",
    )
    shared: bool = False


class SegmentPatch(Schema):
    name: Text | None = Field(None, max_length=100)
    query: Text | None = Field(None, max_length=segments.MAX_QUERY_LENGTH)
    shared: bool | None = None


class SegmentOut(Schema):
    id: int
    name: str
    query: str
    shared: bool
    owner: str
    owner_id: int
    mine: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=200)


class BulkIn(Schema):
    action: Text = Field(
        description="assign_owner, add_tag, remove_tag, set_group, set_follow_up, "
        "add_to_follow_up_list, change_status"
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The action's details: owner (user id), tag (name), group (id or null), "
        "follow_up (true/false), follow_up_list (id), status and reason",
    )
    ids: list[int] = Field(default_factory=list, max_length=1000)
    query: Text = Field(
        "", max_length=4000, description="With `all`: the filters choosing the customers"
    )
    all: bool = Field(False, description="Every customer matching `query` instead of `ids`")
    dry_run: bool = Field(False, description="Only count what would change")


class BulkOut(Schema):
    action: str
    selected: int
    editable: int
    changed: int
    dry_run: bool
    limit: int


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _out(segment: Segment, user: User) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "query": segment.query,
        "shared": segment.shared,
        "owner": str(segment.owner),
        "owner_id": segment.owner_id,
        "mine": segment.owner_id == user.pk,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _invalid(exc: CustomerInvalid, where: tuple[str, ...] = ("body",)) -> Status[dict[str, Any]]:
    """422 with each message under ``where`` and its field (a refused filter: its name)."""
    detail = [
        {
            "loc": [*where, *error_location(field)],
            "msg": str(m),
            "type": "invalid",
        }
        for field, messages in exc.messages_by_field.items()
        for m in messages
    ]
    return Status(422, {"detail": detail})


def _visible(request: HttpRequest, segment_id: int) -> Segment:
    return get_object_or_404(
        Segment.objects.visible_to(request.user).select_related("owner"), pk=segment_id
    )


@router.get("/segments", response=list[SegmentOut], summary="Segments: one's own and shared")
def list_segments(request: HttpRequest) -> Any:
    user = _user(request)
    found = Segment.objects.visible_to(user).select_related("owner").order_by("name", "id")
    return [_out(s, user) for s in found]


@router.post(
    "/segments", response={201: SegmentOut, 422: ErrorOut}, summary="Save filters as a segment"
)
def create_segment(request: HttpRequest, payload: SegmentIn) -> Any:
    user = _user(request)
    try:
        segment = segments.create_segment(
            name=payload.name, query=payload.query, shared=payload.shared, by=user
        )
    except CustomerInvalid as exc:
        return _invalid(exc)
    return Status(201, _out(segment, user))


@router.get("/segments/{int:segment_id}", response=SegmentOut, summary="A segment")
def get_segment(request: HttpRequest, segment_id: int) -> Any:
    return _out(_visible(request, segment_id), _user(request))


@router.patch(
    "/segments/{int:segment_id}",
    response={200: SegmentOut, 422: ErrorOut},
    summary="Rename a segment or change its filters (its owner only)",
)
def patch_segment(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Any:
    user = _user(request)
    segment = _visible(request, segment_id)
    try:
        segments.update_segment(
            segment=segment, by=user, name=payload.name, query=payload.query, shared=payload.shared
        )
    except CustomerInvalid as exc:
        return _invalid(exc)
    return _out(segment, user)


@router.delete(
    "/segments/{int:segment_id}",
    response={204: None},
    summary="Delete a segment (its owner; managers and admins also shared ones)",
)
def delete_segment(request: HttpRequest, segment_id: int) -> Any:
    segments.delete_segment(segment=_visible(request, segment_id), by=_user(request))
    return Status(204, None)


@router.get(
    "/segments/{int:segment_id}/customers",
    response={200: CustomerPage, 422: ErrorOut},
    summary="The customers of a segment you may see, paginated like /customers",
)
def segment_customer_list(request: HttpRequest, segment_id: int, params: Query[PageParams]) -> Any:
    user = _user(request)
    segment = _visible(request, segment_id)
    try:
        qs, _form = segments.segment_customers(
            segment, user=user, queryset=customer_list_queryset(user, detail=True), strict=True
        )
    except segments.SegmentInvalid as exc:
        return _invalid(exc, ("segment", "query"))
    start = (params.page - 1) * params.page_size
    home = Company.load().default_country
    rows = [serialize(c, home) for c in qs[start : start + params.page_size]]
    count, exact = count_up_to(qs, settings.CARTERA_MAX_COUNT)
    return {
        "count": count,
        "count_is_exact": exact,
        "page": params.page,
        "page_size": params.page_size,
        "results": rows,
    }


@router.post(
    "/customers/bulk",
    response={200: BulkOut, 422: ErrorOut},
    summary="Change many customers at once (only those you may edit; dry_run to count)",
)
def bulk_customers(request: HttpRequest, payload: BulkIn) -> Any:
    user = _user(request)
    action = bulk.get_action(payload.action)
    if action is None or not action.allowed(user):
        if not bulk.actions_for(user):
            raise PermissionDenied
        return _invalid(CustomerInvalid({"action": [_("Select a valid choice.")]}))
    if not payload.all and not payload.ids:
        message = _("Give the ids of the customers to change, or all with the filters in query.")
        return _invalid(CustomerInvalid({"ids": [message]}))
    form = action.form(_form_data(payload.params), user=user)
    if not form.is_valid():
        detail = [
            {"loc": ["body", "params", name], "msg": str(m), "type": "invalid"}
            for name, messages in form.errors.items()
            for m in messages
        ]
        return Status(422, {"detail": detail})
    try:
        customers = bulk.selection(
            user=user, query=segments.clean_query(payload.query), ids=payload.ids,
            everything=payload.all,
        )  # fmt: skip
    except segments.SegmentInvalid as exc:
        return _invalid(exc, ("body", "query"))
    preview = bulk.preview(action, customers=customers, params=form.cleaned_data, by=user)
    if preview.too_many:
        return _invalid(CustomerInvalid({"__all__": [bulk.too_many_message(preview.limit)]}))
    changed = preview.changing
    if not payload.dry_run:
        try:
            changed = bulk.run_action(
                action, customers=customers, params=form.cleaned_data, by=user
            )
        except CustomerInvalid as exc:
            return _invalid(exc)
    return {
        "action": action.name,
        "selected": preview.selected,
        "editable": preview.editable,
        "changed": changed,
        "dry_run": payload.dry_run,
        "limit": preview.limit,
    }


def _form_data(params: dict[str, Any]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in params.items():
        if value is None:
            data[name] = ""
        elif isinstance(value, bool):
            data[name] = "1" if value else "0"
        else:
            data[name] = str(value)
    return data
