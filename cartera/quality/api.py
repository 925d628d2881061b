"""Duplicate customers in the API: the review queue, dismiss, merge and a scan on demand.

A pair is only found by users who may edit both of its customers; others get 404.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.core.pagination import count_up_to
from cartera.customers.api import MAX_PAGE, ErrorOut, _invalid
from cartera.customers.models import Customer
from cartera.customers.validation import CustomerInvalid
from cartera.quality import services
from cartera.quality.models import DuplicatePair
from cartera.quality.views import pairs_for

router = Router(tags=["duplicates"])

Choice = Literal["survivor", "other", "both"]
FieldName = Literal[
    "kind", "legal_name", "trade_name", "first_name", "last_name", "fiscal_type", "legal_form",
    "tax_id", "fiscal_address", "stage", "status", "owner", "group", "follow_up",
    "payment_method", "payment_terms_days", "currency", "language", "lead_source", "sector",
    "size", "annual_revenue", "purchase_potential", "notes",
]  # fmt: skip
assert set(FieldName.__args__) == set(services.FIELDS_BY_NAME)  # type: ignore[attr-defined]


class CustomerRef(Schema):
    id: int
    code: str
    name: str = Field(alias="display_name")
    tax_id: str
    archived: bool = Field(alias="is_archived")


class PairOut(Schema):
    id: int
    score: int = Field(description="0-100: how likely the two are one customer")
    status: Literal["open", "dismissed", "merged"]
    reasons: list[dict[str, Any]] = Field(
        description='[{"kind": "tax_id"|"email"|"phone"|"name", "value": ..., "similarity": ...}]'
    )
    found_at: datetime.datetime
    customer_a: CustomerRef
    customer_b: CustomerRef


class PairPage(Schema):
    count: int
    count_is_exact: bool
    page: int
    page_size: int
    results: list[PairOut]


class PairParams(Schema):
    status: Literal["open", "dismissed", "merged"] = "open"
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=200)


class MergeIn(Schema):
    survivor: int = Field(description="Id of the customer kept: one of the pair's two")
    choices: dict[FieldName, Choice] = Field(
        default_factory=dict,
        description="Whose value each field keeps (the survivor's non-empty values by default); "
        '"both" keeps both notes',
    )


class MergeOut(Schema):
    survivor: int
    merged: int


class ScanOut(Schema):
    task_id: str


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _pair(request: HttpRequest, pair_id: int) -> DuplicatePair:
    pairs = DuplicatePair.objects.reviewable_by(_user(request)).select_related(
        "customer_a", "customer_b"
    )
    return get_object_or_404(pairs, pk=pair_id)


@router.get("/duplicates", response={200: PairPage, 422: ErrorOut}, summary="Possible duplicates")
def list_duplicate_pairs(request: HttpRequest, params: Query[PairParams]) -> Any:
    """Pairs of customers that look like one, best first; only pairs whose two customers the
    user may edit."""
    qs = pairs_for(_user(request), params.status)
    count, exact = count_up_to(qs, 10_000)
    start = (params.page - 1) * params.page_size
    return {
        "count": count,
        "count_is_exact": exact,
        "page": params.page,
        "page_size": params.page_size,
        "results": list(qs[start : start + params.page_size]),
    }


@router.post(
    "/duplicates/{int:pair_id}/dismiss",
    response={200: PairOut, 404: ErrorOut},
    summary="Mark a pair as two different customers",
)
def dismiss_duplicate_pair(request: HttpRequest, pair_id: int) -> Any:
    pair = services.dismiss_pair(pair=_pair(request, pair_id), by=_user(request))
    return _pair(request, pair.pk)


@router.post(
    "/duplicates/{int:pair_id}/merge",
    response={200: MergeOut, 404: ErrorOut, 422: ErrorOut},
    summary="Merge the pair's customers into one (cannot be undone)",
)
def merge_duplicate_pair(request: HttpRequest, pair_id: int, payload: MergeIn) -> Any:
    pair = _pair(request, pair_id)
    customers: dict[int, Customer] = {c.pk: c for c in (pair.customer_a, pair.customer_b)}
    if payload.survivor not in customers:
        message = _("Choose one of the pair's two customers.")
        return Status(422, {"detail": [{"loc": ["body", "survivor"], "msg": message,
                                        "type": "invalid"}]})  # fmt: skip
    survivor = customers.pop(payload.survivor)
    other = next(iter(customers.values()))
    try:
        kept = services.merge_customers(
            survivor=survivor,
            other=other,
            choices={str(k): v for k, v in payload.choices.items()},
            by=_user(request),
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return {"survivor": kept.pk, "merged": other.pk}


@router.post(
    "/duplicates/scan",
    response={202: ScanOut},
    summary="Scan the register for duplicates now (managers and administrators)",
)
def request_duplicate_scan(request: HttpRequest) -> Any:
    return Status(202, {"task_id": services.request_scan(by=_user(request))})
