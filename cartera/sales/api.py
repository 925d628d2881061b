"""Sales endpoints: the catalogue, sales documents with lines, the pipeline, purchase history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.core.pagination import count_up_to
from cartera.customers.api import ErrorOut, _invalid
from cartera.customers.models import Customer, LeadSource
from cartera.customers.validation import CustomerInvalid
from cartera.sales import catalogue, history, opportunities, services
from cartera.sales.api_schemas import (
    ConvertIn,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    DocumentParams,
    DocumentPatch,
    DocumentSummary,
    HistoryOut,
    LoseIn,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityParams,
    OpportunityPatch,
    PageParams,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    StageOut,
    StateIn,
    WinIn,
)
from cartera.sales.models import (
    Opportunity,
    PipelineStage,
    Product,
    SalesDocument,
)
from cartera.sales.pricing import compute_totals

router = Router(tags=["sales"])

# --- Helpers ----------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _page(items: Any, params: PageParams) -> dict[str, Any]:
    start = (params.page - 1) * params.page_size
    count, exact = count_up_to(items, settings.CARTERA_MAX_COUNT)
    return {
        "count": count,
        "count_is_exact": exact,
        "page": params.page,
        "page_size": params.page_size,
        "results": list(items[start : start + params.page_size]),
    }


def _refs(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """Ids of users, stages and sources replaced by the objects (unknown ones are errors)."""
    for name, model in (("owner", User), ("stage", PipelineStage), ("source", LeadSource)):
        if data.get(name) is not None:
            found = model.objects.filter(pk=data[name]).first()
            if found is None:
                errors[name] = [_("Select a valid choice.")]
            data[name] = found
    return data


def _document_out(document: SalesDocument) -> dict[str, Any]:
    lines = list(document.lines.all())
    totals = compute_totals((line.amount, line.tax_rate) for line in lines)
    out = DocumentSummary.model_validate(document).model_dump(by_alias=True)
    out.update(
        valid_until=document.valid_until,
        due_date=document.due_date,
        notes=document.notes,
        next_states=list(document.next_states()),
        lines=lines,
        taxes=totals.by_rate,
        fiscal=document.fiscal,
    )
    return out


def _document(request: HttpRequest, pk: int) -> SalesDocument:
    return get_object_or_404(SalesDocument.objects.visible_to(request.user), pk=pk)


def _opportunity(request: HttpRequest, pk: int) -> Opportunity:
    found = Opportunity.objects.visible_to(request.user).select_related("stage")
    return get_object_or_404(found, pk=pk)


def _opportunity_out(opportunity: Opportunity) -> Opportunity:
    opportunity.probability = opportunity.stage.probability  # type: ignore[attr-defined]
    return opportunity


# --- Catalogue --------------------------------------------------------------------------------


@router.get("/products", response={200: ProductPage, 422: ErrorOut}, summary="List products")
def list_products(
    request: HttpRequest, params: Query[PageParams], active: bool | None = None
) -> Any:
    products = Product.objects.order_by("code")
    if active is not None:
        products = products.filter(is_active=active)
    return _page(products, params)


@router.post("/products", response={201: ProductOut, 422: ErrorOut}, summary="Add a product")
def create_product(request: HttpRequest, payload: ProductIn) -> Any:
    data = payload.model_dump(exclude={"special_prices"})
    try:
        product = catalogue.save_product(
            product=None, data=data, by=_user(request), special_prices=payload.special_prices
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, product)


@router.get("/products/{int:product_id}", response=ProductOut, summary="One product")
def get_product(request: HttpRequest, product_id: int) -> Any:
    return get_object_or_404(Product, pk=product_id)


@router.patch(
    "/products/{int:product_id}", response={200: ProductOut, 422: ErrorOut},
    summary="Change a product",
)  # fmt: skip
def patch_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> Any:
    product = get_object_or_404(Product, pk=product_id)
    data = payload.model_dump(exclude_unset=True, exclude={"special_prices"})
    data = {k: v for k, v in data.items() if v is not None}
    try:
        return catalogue.save_product(
            product=product, data=data, by=_user(request), special_prices=payload.special_prices
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)


# --- Documents --------------------------------------------------------------------------------


@router.get(
    "/sales/documents", response={200: DocumentPage, 422: ErrorOut},
    summary="List quotes, orders and invoices",
)  # fmt: skip
def list_sales_documents(request: HttpRequest, params: Query[DocumentParams]) -> Any:
    documents = SalesDocument.objects.visible_to(request.user).order_by("-issue_date", "-id")
    if params.type:
        documents = documents.filter(type=params.type)
    if params.state:
        documents = documents.filter(state=params.state)
    if params.customer:
        documents = documents.filter(customer_id=params.customer)
    return _page(documents, params)


@router.post(
    "/sales/documents", response={201: DocumentOut, 404: ErrorOut, 422: ErrorOut},
    summary="Create a quote, order or invoice with its lines (only for active customers)",
)  # fmt: skip
def create_sales_document(request: HttpRequest, payload: DocumentIn) -> Any:
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=payload.customer)
    errors: dict[str, list[str]] = {}
    data = _refs(payload.model_dump(exclude={"customer", "type", "lines"}), errors)
    try:
        if errors:
            raise services.SalesInvalid(errors)
        document = services.create_document(
            customer=customer,
            doc_type=payload.type,
            data=data,
            lines=[line.model_dump() for line in payload.lines],
            by=user,
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, _document_out(document))


@router.get(
    "/sales/documents/{int:document_id}", response=DocumentOut,
    summary="One document with its lines and taxes",
)  # fmt: skip
def get_sales_document(request: HttpRequest, document_id: int) -> Any:
    return _document_out(_document(request, document_id))


@router.patch(
    "/sales/documents/{int:document_id}", response={200: DocumentOut, 422: ErrorOut},
    summary="Change a draft (its lines are replaced when given)",
)  # fmt: skip
def patch_sales_document(request: HttpRequest, document_id: int, payload: DocumentPatch) -> Any:
    document = _document(request, document_id)
    errors: dict[str, list[str]] = {}
    data = _refs(payload.model_dump(exclude_unset=True, exclude={"lines"}), errors)
    lines = None if payload.lines is None else [line.model_dump() for line in payload.lines]
    try:
        if errors:
            raise services.SalesInvalid(errors)
        document = services.update_document(
            document=document, data=data, lines=lines, by=_user(request)
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _document_out(document)


@router.post(
    "/sales/documents/{int:document_id}/state", response={200: DocumentOut, 422: ErrorOut},
    summary="Move a document to another state",
)  # fmt: skip
def change_sales_document_state(request: HttpRequest, document_id: int, payload: StateIn) -> Any:
    document = _document(request, document_id)
    try:
        document = services.change_state(document=document, to=payload.state, by=_user(request))
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _document_out(document)


@router.post(
    "/sales/documents/{int:document_id}/convert",
    response={201: DocumentOut, 422: ErrorOut},
    summary="Make the order of a quote, or the invoice of an order",
)
def convert_sales_document(request: HttpRequest, document_id: int, payload: ConvertIn) -> Any:
    document = _document(request, document_id)
    try:
        new = services.convert_document(document=document, to_type=payload.to, by=_user(request))
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, _document_out(new))


# --- Pipeline ---------------------------------------------------------------------------------


@router.get("/pipeline/stages", response=list[StageOut], summary="The pipeline's stages")
def list_pipeline_stages(request: HttpRequest) -> Any:
    return list(PipelineStage.objects.all())


@router.get(
    "/opportunities", response={200: OpportunityPage, 422: ErrorOut},
    summary="List opportunities, with the weighted value of the open ones",
)  # fmt: skip
def list_opportunities(request: HttpRequest, params: Query[OpportunityParams]) -> Any:
    found = Opportunity.objects.visible_to(request.user)
    if params.customer:
        found = found.filter(customer_id=params.customer)
    if params.stage:
        found = found.filter(stage_id=params.stage)
    weighted = opportunities.weighted_value(found)
    if params.outcome:
        found = found.filter(outcome=params.outcome)
    page = _page(found.select_related("stage").order_by("expected_close", "id"), params)
    page["results"] = [_opportunity_out(o) for o in page["results"]]
    return page | {"weighted": weighted}


@router.post(
    "/opportunities", response={201: OpportunityOut, 404: ErrorOut, 422: ErrorOut},
    summary="Create an opportunity (owned by the customer's owner by default)",
)  # fmt: skip
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Any:
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=payload.customer)
    errors: dict[str, list[str]] = {}
    data = _refs(payload.model_dump(exclude={"customer"}), errors)
    try:
        if errors:
            raise services.SalesInvalid(errors)
        opportunity = opportunities.create_opportunity(customer=customer, data=data, by=user)
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return Status(201, _opportunity_out(opportunity))


@router.get("/opportunities/{int:opportunity_id}", response=OpportunityOut)
def get_opportunity(request: HttpRequest, opportunity_id: int) -> Any:
    return _opportunity_out(_opportunity(request, opportunity_id))


@router.patch(
    "/opportunities/{int:opportunity_id}", response={200: OpportunityOut, 422: ErrorOut},
    summary="Change an opportunity (its stage too)",
)  # fmt: skip
def patch_opportunity(request: HttpRequest, opportunity_id: int, payload: OpportunityPatch) -> Any:
    opportunity = _opportunity(request, opportunity_id)
    errors: dict[str, list[str]] = {}
    data = _refs(payload.model_dump(exclude_unset=True), errors)
    try:
        if errors:
            raise services.SalesInvalid(errors)
        opportunity = opportunities.update_opportunity(
            opportunity=opportunity, data=data, by=_user(request)
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _opportunity_out(_opportunity(request, opportunity.pk))


@router.post(
    "/opportunities/{int:opportunity_id}/win", response={200: OpportunityOut, 422: ErrorOut},
    summary="Mark an opportunity won (a lead or prospect becomes a client)",
)  # fmt: skip
def win_opportunity(request: HttpRequest, opportunity_id: int, payload: WinIn) -> Any:
    opportunity = _opportunity(request, opportunity_id)
    document = None
    if payload.document is not None:
        document = get_object_or_404(SalesDocument.objects.visible_to(request.user),
                                     pk=payload.document)  # fmt: skip
    try:
        opportunity = opportunities.win_opportunity(
            opportunity=opportunity, by=_user(request), document=document
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _opportunity_out(_opportunity(request, opportunity.pk))


@router.post(
    "/opportunities/{int:opportunity_id}/lose", response={200: OpportunityOut, 422: ErrorOut},
    summary="Mark an opportunity lost, with the reason",
)  # fmt: skip
def lose_opportunity(request: HttpRequest, opportunity_id: int, payload: LoseIn) -> Any:
    opportunity = _opportunity(request, opportunity_id)
    try:
        opportunity = opportunities.lose_opportunity(
            opportunity=opportunity,
            by=_user(request),
            reason=payload.lost_reason,
            competitor=payload.competitor,
        )
    except CustomerInvalid as exc:
        return _invalid(request, exc)
    return _opportunity_out(_opportunity(request, opportunity.pk))


# --- Purchase history -------------------------------------------------------------------------


@router.get(
    "/customers/{int:customer_id}/purchase-history", response=HistoryOut,
    summary="A customer's purchases: totals by month and year, products, open documents",
)  # fmt: skip
def purchase_history(request: HttpRequest, customer_id: int) -> Any:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_id)
    found = history.purchase_history(customer)
    return {
        "invoices": found.invoices,
        "total": found.total,
        "last_purchase": found.last_purchase,
        "average_order": found.average_order,
        "months": [{"month": m, "total": t} for m, t in found.months],
        "years": [{"year": y, "total": t, "invoices": n} for y, t, n in found.years],
        "products": [
            {
                "product": p["product_id"],
                "code": p["product__code"],
                "description": p["description"],
                "quantity": p["quantity"],
                "amount": p["amount"],
                "last": p["last"],
            }
            for p in found.products
        ],
        "open_documents": found.open_documents,
    }
