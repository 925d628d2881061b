"""Data-protection endpoints: consents, data-subject requests and the access package."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.core.schema import Date, Id, Text
from cartera.customers.models import Contact, Customer, among
from cartera.privacy import services
from cartera.privacy.models import ConsentRecord, DataSubjectRequest

router = Router(tags=["data protection"])

PurposeCode = Literal["commercial", "newsletter", "profiling", "sharing"]
BasisCode = Literal[
    "consent", "contract", "legal_obligation", "legitimate_interest", "vital_interest",
    "public_task",
]  # fmt: skip
KindCode = Literal["access", "rectification", "erasure", "objection", "portability", "restriction"]


class ConsentIn(Schema):
    purpose: PurposeCode
    legal_basis: BasisCode
    state: Literal["granted", "withdrawn"]
    recorded_on: Date
    source: Text = Field("", max_length=200)
    evidence: Text = Field("", max_length=4000)
    contact: Id | None = None


class ConsentOut(Schema):
    id: int
    contact: int | None = Field(None, alias="contact_id")
    purpose: str
    legal_basis: str
    state: str
    recorded_on: datetime.date
    source: str
    evidence: str


class ConsentState(Schema):
    current: list[ConsentOut]
    history: list[ConsentOut]


class RequestIn(Schema):
    customer: int
    kind: KindCode
    received_on: Date
    channel: Text = Field("", max_length=100)
    notes: Text = Field("", max_length=4000)
    contact: Id | None = None


class RequestOut(Schema):
    id: int
    customer: int = Field(alias="customer_id")
    kind: str
    received_on: datetime.date
    due_on: datetime.date
    status: str
    channel: str
    notes: str
    resolution: str


class ErrorOut(Schema):
    detail: list[dict[str, Any]] | str


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


def _contact(customer: Customer, pk: int | None) -> Contact | None:
    if pk is None:
        return None
    return get_object_or_404(Contact, pk=pk, customer=customer)


@router.get("/customers/{int:customer_id}/consents", response=ConsentState)
def list_consents(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    customer = _customer(request, customer_id)
    return {
        "current": services.current_consents(customer),
        "history": list(ConsentRecord.objects.filter(customer=customer)),
    }


@router.post(
    "/customers/{int:customer_id}/consents",
    response={201: ConsentOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def add_consent(request: HttpRequest, customer_id: int, payload: ConsentIn) -> Any:
    customer = _customer(request, customer_id)
    data = payload.model_dump(exclude={"contact"})
    record = services.record_consent(
        customer=customer, by=_user(request), contact=_contact(customer, payload.contact), **data
    )
    return Status(201, record)


@router.get("/privacy/requests", response={200: list[RequestOut], 422: ErrorOut})
def list_requests(request: HttpRequest, open_only: bool = False) -> Any:
    user = _user(request)
    if not user.sees_whole_portfolio:
        return []
    items = DataSubjectRequest.objects.filter(among(Customer.objects.visible_to(user)))
    if open_only:
        items = items.filter(status__in=["open", "in_progress"])
    return items[:1000]


@router.post(
    "/privacy/requests",
    response={201: RequestOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def add_request(request: HttpRequest, payload: RequestIn) -> Any:
    customer = _customer(request, payload.customer)
    data = payload.model_dump(exclude={"contact", "customer"})
    item = services.open_request(
        customer=customer, by=_user(request), contact=_contact(customer, payload.contact), **data
    )
    return Status(201, item)


@router.get("/customers/{int:customer_id}/personal-data", response=dict[str, Any])
def personal_data(request: HttpRequest, customer_id: int) -> Any:
    """All personal data held about the customer (administrators; access and portability)."""
    customer = _customer(request, customer_id)
    return services.access_package(customer, by=_user(request))
