"""REST endpoints of the customer register."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.audit import services as audit
from cartera.audit.models import AuditEvent
from cartera.audit.presenters import present
from cartera.core.models import Company
from cartera.core.pagination import bound
from cartera.core.schema import Date, Id, Text
from cartera.customers import services
from cartera.customers.filters import CustomerFilter
from cartera.customers.fiscal import TAX_ID_TYPES, check_tax_id, format_tax_id
from cartera.customers.models import (
    Customer,
    CustomerGroup,
    FiscalType,
    LeadSource,
    LegalForm,
    Sector,
)
from cartera.customers.queries import customer_detail_queryset, customer_list_queryset
from cartera.customers.validation import (
    ADDRESS_FIELDS,
    LEGAL_FORM_FISCAL_TYPE,
    CustomerInvalid,
)

router = Router(tags=["customers"])

# Deeper than this nobody pages by hand; it also keeps OFFSET within the database's range.
MAX_PAGE = 10_000


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str = ""


class DuplicateRef(Schema):
    id: int
    code: str
    url: str | None = None


class ErrorOut(Schema):
    detail: list[ErrorItem] | str
    duplicate_of: DuplicateRef | None = None


class ChannelIn(Schema):
    id: Id | None = None
    type: Literal["phone", "email", "website", "social"]
    label: Literal["", "mobile", "landline", "fax", "general", "billing", "other"] = ""
    value: Text = Field(max_length=254)
    is_primary: bool = False


class AddressIn(Schema):
    id: Id | None = None
    type: Literal["fiscal", "shipping", "other"] = "fiscal"
    street: Text = Field("", max_length=200)
    exterior_number: Text = Field("", max_length=20)
    interior_number: Text = Field("", max_length=40)
    neighbourhood: Text = Field("", max_length=120)
    municipality: Text = Field("", max_length=120)
    locality: Text = Field("", max_length=120)
    postal_code: Text = Field("", max_length=16)
    region: Text = Field("", max_length=8, description="ISO 3166-2 code, e.g. ES-M")
    country: Text = Field(max_length=2, description="ISO 3166-1 alpha-2 code")


class ContactIn(Schema):
    id: Id | None = None
    first_name: Text = Field("", max_length=100)
    last_name: Text = Field("", max_length=150)
    role: Text = Field("", max_length=100)
    email: Text = Field("", max_length=254)
    phone: Text = Field("", max_length=32)
    mobile: Text = Field("", max_length=32)
    birthday: Date | None = None
    notes: Text = ""
    is_primary: bool = False


class CustomerIn(Schema):
    """Every field is optional in the schema; the register's rules decide what is required."""

    code: Text | None = Field(None, max_length=24)
    kind: Literal["person", "organization"] | None = None
    fiscal_type: Text | None = Field(None, description="Fiscal type code, e.g. sociedad_mercantil")
    legal_name: Text | None = Field(None, max_length=200)
    trade_name: Text | None = Field(None, max_length=200)
    first_name: Text | None = Field(None, max_length=100)
    last_name: Text | None = Field(None, max_length=150)
    legal_form: Text | None = Field(None, description="Legal form code in the tax country, e.g. SL")
    tax_id: Text | None = Field(None, max_length=40)
    tax_country: Text | None = Field(None, max_length=2)
    stage: Literal["lead", "prospect", "client", "former", "lost"] | None = None
    status: Literal["active", "inactive", "suspended"] | None = None
    status_reason: Text | None = Field(None, max_length=200)
    loss_reason: Text | None = None
    loss_detail: Text | None = Field(None, max_length=200)
    group: Id | None = None
    tags: list[Text] | None = None
    follow_up: bool | None = None
    owner: Id | None = None
    notes: Text | None = None
    payment_method: Text | None = None
    payment_terms_days: int | None = None
    currency: Text | None = Field(None, max_length=3)
    language: Text | None = Field(None, max_length=8)
    lead_source: Id | None = None
    sector: Id | None = None
    size: Text | None = None
    annual_revenue: Decimal | None = None
    purchase_potential: Decimal | None = None
    custom_data: dict[str, Any] | None = None
    channels: list[ChannelIn] | None = None
    addresses: list[AddressIn] | None = None
    contacts: list[ContactIn] | None = None


class CustomerPatch(CustomerIn):
    version: int | None = Field(None, description="The version read; refused if it changed")


class OwnerOut(Schema):
    id: int
    username: str
    name: str


class ChannelOut(Schema):
    id: int
    type: str
    label: str
    value: str
    display: str
    is_primary: bool


class AddressOut(Schema):
    id: int
    type: str
    street: str
    exterior_number: str
    interior_number: str
    neighbourhood: str
    municipality: str
    locality: str
    postal_code: str
    region: str
    region_name: str
    country: str
    country_name: str


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    role: str
    email: str
    phone: str
    mobile: str
    birthday: datetime.date | None
    notes: str
    is_primary: bool


class CustomerOut(Schema):
    id: int
    url: str
    code: str
    kind: str
    fiscal_type: str | None
    legal_name: str
    trade_name: str
    first_name: str
    last_name: str
    legal_form: str | None
    tax_id: str
    tax_id_formatted: str
    tax_id_type: str
    tax_country: str
    stage: str
    status: str
    status_reason: str
    activity: str
    loss_reason: str
    loss_detail: str
    group: int | None
    tags: list[str]
    follow_up: bool
    owner: OwnerOut
    notes: str
    payment_method: str
    payment_terms_days: int | None
    currency: str
    language: str
    lead_source: int | None
    sector: int | None
    size: str
    annual_revenue: Decimal | None
    purchase_potential: Decimal | None
    custom_data: dict[str, Any]
    invoiceable: bool
    missing_for_invoice: list[str]
    reviewed_at: datetime.datetime | None
    archived_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    channels: list[ChannelOut]
    addresses: list[AddressOut]
    contacts: list[ContactOut]


class ChangeOut(Schema):
    field: str
    label: str
    before: Any
    after: Any


class EventOut(Schema):
    at: datetime.datetime
    actor: str
    source: str
    action: str
    object_type: str
    object_id: int | None
    object_label: str
    version: int | None
    changes: list[ChangeOut]


class HistoryPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[EventOut]


class CustomerPage(Schema):
    count: int = Field(
        description="Matches, counted up to CARTERA_MAX_COUNT (with a search: the first "
        "CARTERA_MAX_SEARCH_COUNT matches, sorted)"
    )
    count_is_exact: bool = Field(description="False when there are more than `count`")
    page: int
    page_size: int
    results: list[CustomerOut]


class ListParams(Schema):
    search: Text = Field(
        "", max_length=200, description="Name, trade name, tax id, e-mail, phone, code"
    )
    stage: Text = ""
    status: Text = ""
    group: Id | None = None
    owner: Id | None = None
    country: Text = ""
    region: Text = ""
    follow_up: bool | None = None
    tag: Text = ""
    archived: bool = False
    contactable_for: Text = Field(
        "", description="Leave out who withdrew consent for this purpose (e.g. commercial)"
    )
    imported: Id | None = Field(
        None, description="An import's id (one you may see): the customers it created or updated"
    )
    sort: Literal[
        "name", "-name", "code", "-code", "created", "-created", "updated", "-updated"
    ] = "name"
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=200)


class TaxIdCheckOut(Schema):
    valid: bool
    reason: str
    compact: str
    formatted: str
    country: str
    tax_id_type: str
    type_label: str
    kind: Literal["person", "organization"] | None
    legal_form: str | None
    legal_form_id: int | None
    fiscal_type: str | None
    fiscal_type_id: int | None
    duplicate_of: DuplicateRef | None = None


def serialize(customer: Customer, home_region: str) -> dict[str, Any]:
    """A customer as the API shows it (from a queryset of customer_detail_queryset)."""
    missing = services.invoice_missing(customer)
    owner = customer.owner
    return {
        **{name: getattr(customer, name) for name in _PLAIN_FIELDS},
        "url": reverse("customers:detail", args=[customer.pk]),
        "fiscal_type": customer.fiscal_type.code if customer.fiscal_type else None,
        "legal_form": customer.legal_form.code if customer.legal_form else None,
        "tax_id_formatted": format_tax_id(
            customer.tax_id, customer.tax_country, customer.tax_id_type
        )
        if customer.tax_id
        else "",
        "group": customer.group_id,
        "lead_source": customer.lead_source_id,
        "sector": customer.sector_id,
        "tags": [t.name for t in customer.tags.all()],
        "owner": {"id": owner.pk, "username": owner.username, "name": str(owner)},
        "invoiceable": not missing,
        "missing_for_invoice": missing,
        "channels": [
            {
                "id": c.pk,
                "type": c.type,
                "label": c.label,
                "value": c.value,
                "display": c.display(home_region),
                "is_primary": c.is_primary,
            }
            for c in customer.channels.all()
        ],
        "addresses": [
            {
                **{n: getattr(a, n) for n in ADDRESS_FIELDS},
                "region_name": a.region_name,
                "country_name": a.country_name,
            }
            for a in customer.addresses.all()
        ],
        "contacts": [{n: getattr(c, n) for n in _CONTACT_FIELDS} for c in customer.contacts.all()],
    }


_PLAIN_FIELDS = (
    "id", "code", "kind", "legal_name", "trade_name", "first_name", "last_name", "tax_id",
    "tax_id_type", "tax_country", "stage", "status", "status_reason", "activity", "loss_reason",
    "loss_detail", "follow_up", "notes", "payment_method", "payment_terms_days", "currency",
    "language", "size", "annual_revenue", "purchase_potential", "custom_data", "reviewed_at",
    "archived_at", "created_at", "updated_at", "version",
)  # fmt: skip
_CONTACT_FIELDS = tuple(ContactOut.model_fields)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _resolve(payload: CustomerIn, *, tax_country: str | None) -> dict[str, Any]:
    """Turn the API's codes and ids into what the services take, or raise CustomerInvalid."""
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    errors: dict[str, list[str]] = {}
    lookups: list[tuple[str, Any, str]] = [
        ("fiscal_type", FiscalType.objects.filter(is_active=True), "code"),
        ("group", CustomerGroup.objects.all(), "pk"),
        ("lead_source", LeadSource.objects.filter(is_active=True), "pk"),
        ("sector", Sector.objects.filter(is_active=True), "pk"),
        ("owner", User.objects.filter(is_active=True), "pk"),
    ]
    for name, queryset, key in lookups:
        if data.get(name) is not None:
            found = queryset.filter(**{key: data[name]}).first()
            if found is None:
                errors[name] = [_("There is no such option.")]
            data[name] = found
    if data.get("legal_form") is not None:
        country = (data.get("tax_country") or tax_country or "").upper()
        forms = LegalForm.objects.filter(code__iexact=data["legal_form"], is_active=True)
        found = forms.filter(country=country).first() or forms.filter(country="").first()
        if found is None:
            errors["legal_form"] = [_("There is no such legal form for the tax country.")]
        data["legal_form"] = found
    for name in ("channels", "addresses", "contacts"):
        if data.get(name) is None and name in data:
            data[name] = []
    if errors:
        raise CustomerInvalid(errors)
    return data


def error_location(path: str) -> list[str | int]:
    """An error's dotted path as the API's ``loc`` parts ("channels.0.value" → channels, 0,
    value); none for an error of the whole request."""
    return [] if path == "__all__" else [int(p) if p.isdigit() else p for p in path.split(".")]


def _invalid(request: HttpRequest, exc: CustomerInvalid) -> Status[dict[str, Any]]:
    detail = []
    for path, messages in exc.messages_by_field.items():
        loc: list[str | int] = ["body", *error_location(path)]
        detail += [{"loc": loc, "msg": str(m), "type": "invalid"} for m in messages]
    body: dict[str, Any] = {"detail": detail}
    if exc.duplicate is not None:
        visible = Customer.objects.visible_to(request.user).filter(pk=exc.duplicate.pk).exists()
        body["duplicate_of"] = {
            "id": exc.duplicate.pk,
            "code": exc.duplicate.code,
            "url": reverse("customers:detail", args=[exc.duplicate.pk]) if visible else None,
        }
    return Status(409 if isinstance(exc, services.VersionConflict) else 422, body)


def _home_region() -> str:
    return Company.load().default_country


def _detail(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(customer_detail_queryset(_user(request)), pk=pk)


_PARAM = {"q": "search"}


@router.get(
    "/customers",
    response={200: CustomerPage, 422: ErrorOut},
    summary="List and search customers",
)
def list_customers(request: HttpRequest, params: Query[ListParams]) -> Any:
    query = params.model_dump()
    query["q"] = query.pop("search")
    form = CustomerFilter(
        data={k: v for k, v in query.items() if v not in (None, "")}, user=_user(request)
    )
    if not form.is_valid():
        detail = [
            {
                "loc": ["query", "search" if name == "q" else name],
                "msg": str(msg),
                "type": "invalid",
            }
            for name, messages in form.errors.items()
            for msg in messages
        ]
        return Status(422, {"detail": detail})
    qs, count, exact = bound(form.apply(customer_list_queryset(_user(request), detail=True)))
    start = (params.page - 1) * params.page_size
    home = _home_region()
    rows = [serialize(c, home) for c in qs[start : start + params.page_size]]
    return {
        "count": count,
        "count_is_exact": exact,
        "page": params.page,
        "page_size": params.page_size,
        "results": rows,
    }


@router.post(
    "/customers",
    response={201: CustomerOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Create a customer with its channels, addresses and contacts",
)
def create_customer(request: HttpRequest, payload: CustomerIn) -> Any:
    try:
        data = _resolve(payload, tax_country=None)
        customer = services.create_customer(data=data, by=_user(request), prefetched=True)
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, serialize(customer, _home_region()))  # no need to read it back


@router.get("/customers/{int:customer_id}", response=CustomerOut, summary="A customer's record")
def get_customer(request: HttpRequest, customer_id: int, response: HttpResponse) -> Any:
    customer = _detail(request, customer_id)
    audit.record_access(
        by=_user(request),
        object_type="customer",
        object_id=customer.pk,
        label=customer.code,
        customer_id=customer.pk,
    )
    response.headers["ETag"] = f'"{customer.version}"'
    return serialize(customer, _home_region())


@router.patch(
    "/customers/{int:customer_id}",
    response={200: CustomerOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Change a customer; lists sent replace the current ones",
)
def patch_customer(
    request: HttpRequest, customer_id: int, payload: CustomerPatch, response: HttpResponse
) -> Any:
    customer = _detail(request, customer_id)
    version = payload.version
    if_match = request.headers.get("If-Match", "").strip('W/"')
    if version is None and if_match.isdigit():
        version = int(if_match)
    try:
        data = _resolve(payload, tax_country=customer.tax_country)
        services.update_customer(customer=customer, data=data, by=_user(request), version=version)
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    customer = _detail(request, customer_id)
    response.headers["ETag"] = f'"{customer.version}"'
    return serialize(customer, _home_region())


@router.delete(
    "/customers/{int:customer_id}",
    response={200: CustomerOut},
    summary="Archive a customer (nothing is deleted)",
)
def archive_customer(request: HttpRequest, customer_id: int) -> Any:
    customer = _detail(request, customer_id)
    services.archive_customer(customer=customer, by=_user(request))
    return serialize(_detail(request, customer_id), _home_region())


@router.post(
    "/customers/{int:customer_id}/restore",
    response={200: CustomerOut},
    summary="Restore an archived customer",
)
def restore_customer(request: HttpRequest, customer_id: int) -> Any:
    customer = _detail(request, customer_id)
    services.restore_customer(customer=customer, by=_user(request))
    return serialize(_detail(request, customer_id), _home_region())


@router.get(
    "/customers/{int:customer_id}/history",
    response={200: HistoryPage, 422: ErrorOut},
    summary="Who changed what in a customer, newest first",
)
def customer_history(
    request: HttpRequest,
    customer_id: int,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_id)
    events = AuditEvent.objects.for_customer(customer.pk).changes().visible_to(request.user)
    start = (page - 1) * page_size
    results = []
    for item in events[start : start + page_size]:
        view = present(item)
        names = list(item.changes or {})
        results.append(
            {
                "at": item.at,
                "actor": item.actor_name,
                "source": item.source,
                "action": item.action,
                "object_type": item.object_type,
                "object_id": item.object_id,
                "object_label": item.object_label,
                "version": item.version,
                "changes": [
                    {
                        "field": name,
                        "label": change.label,
                        "before": (item.changes[name] or [None])[0],
                        "after": (item.changes[name] + [None, None])[1],
                    }
                    for name, change in zip(names, view.changes, strict=True)
                ],
            }
        )
    return {"count": events.count(), "page": page, "page_size": page_size, "results": results}


@router.get(
    "/tax-ids/check",
    response={200: TaxIdCheckOut, 422: ErrorOut},
    tags=["tax ids"],
    summary="Validate a tax id and tell what it implies",
)
def check_tax_id_endpoint(
    request: HttpRequest,
    value: Text = Query(..., max_length=60),
    country: Text = Query("", max_length=2),
    exclude: int | None = Query(None, description="Customer being edited"),
) -> dict[str, Any]:
    result = check_tax_id(value, country.upper() or None)
    legal_form = (
        LegalForm.objects.filter(country=result.country, code=result.legal_form).first()
        if result.legal_form
        else None
    )
    fiscal_type = (
        FiscalType.objects.filter(code=LEGAL_FORM_FISCAL_TYPE[result.legal_form]).first()
        if result.legal_form in LEGAL_FORM_FISCAL_TYPE
        else None
    )
    id_type = TAX_ID_TYPES.get(result.tax_id_type)
    duplicate = None
    if result.valid:
        others = Customer.objects.filter(tax_country=result.country, tax_id=result.compact)
        if exclude:
            others = others.exclude(pk=exclude)
        found = others.only("id", "code").first()
        if found is not None:
            visible = Customer.objects.visible_to(request.user).filter(pk=found.pk).exists()
            duplicate = {
                "id": found.pk,
                "code": found.code,
                "url": reverse("customers:detail", args=[found.pk]) if visible else None,
            }
    return {
        "valid": result.valid,
        "reason": result.reason,
        "compact": result.compact,
        "formatted": result.formatted,
        "country": result.country,
        "tax_id_type": result.tax_id_type,
        "type_label": id_type.label if id_type else "",
        "kind": result.kind,
        "legal_form": result.legal_form,
        "legal_form_id": legal_form.pk if legal_form else None,
        "fiscal_type": fiscal_type.code if fiscal_type else None,
        "fiscal_type_id": fiscal_type.pk if fiscal_type else None,
        "duplicate_of": duplicate,
    }
