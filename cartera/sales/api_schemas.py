"""The shapes of the sales API: what its endpoints take and give (``cartera.sales.api``)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from cartera.core.schema import Date, Id, Text
from cartera.customers.api import MAX_PAGE

TypeName = Literal["quote", "order", "invoice"]
StateName = Literal[
    "draft", "sent", "accepted", "rejected", "confirmed", "invoiced", "paid", "cancelled"
]
ReasonName = Literal["non_payment", "unused", "competitor", "ceased", "not_interested", "other"]


# --- Schemas ----------------------------------------------------------------------------------


class ProductIn(Schema):
    code: Text = Field(max_length=40)
    name: Text = Field(max_length=200)
    kind: Literal["product", "service"] = "product"
    unit: Text = Field("ud", max_length=20)
    price: Decimal = Field(ge=0, lt=Decimal("1e10"), decimal_places=4)
    tax_rate: Decimal = Field(Decimal("21"), ge=0, le=100, decimal_places=2)
    is_active: bool = True
    special_prices: dict[int, Decimal | None] | None = Field(
        None, description="Customer group id → special price (null removes it)"
    )


class ProductPatch(Schema):
    code: Text | None = Field(None, max_length=40)
    name: Text | None = Field(None, max_length=200)
    kind: Literal["product", "service"] | None = None
    unit: Text | None = Field(None, max_length=20)
    price: Decimal | None = Field(None, ge=0, lt=Decimal("1e10"), decimal_places=4)
    tax_rate: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    is_active: bool | None = None
    special_prices: dict[int, Decimal | None] | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    unit: str
    price: Decimal
    tax_rate: Decimal
    is_active: bool


class ProductPage(Schema):
    count: int
    count_is_exact: bool
    page: int
    page_size: int
    results: list[ProductOut]


class LineIn(Schema):
    product: Id | None = None
    description: Text = Field("", max_length=300)
    quantity: Decimal = Field(gt=0, lt=Decimal("1e9"), decimal_places=3)
    unit_price: Decimal | None = Field(
        None, ge=0, lt=Decimal("1e10"), decimal_places=4,
        description="Empty: the customer's price for the product",
    )  # fmt: skip
    discount_percent: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    tax_rate: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)


class LineOut(Schema):
    product: int | None = Field(None, alias="product_id")
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    price_source: str
    amount: Decimal


class TaxOut(Schema):
    rate: Decimal
    base: Decimal
    tax: Decimal


class DocumentIn(Schema):
    customer: int
    type: TypeName
    issue_date: Date | None = None
    valid_until: Date | None = None
    due_date: Date | None = None
    customer_reference: Text = Field("", max_length=60)
    notes: Text = Field("", max_length=4000)
    owner: int | None = Field(None, description="User id; the customer's owner by default")
    lines: list[LineIn] = Field(max_length=200)


class DocumentPatch(Schema):
    issue_date: Date | None = None
    valid_until: Date | None = None
    due_date: Date | None = None
    customer_reference: Text | None = Field(None, max_length=60)
    notes: Text | None = Field(None, max_length=4000)
    owner: Id | None = None
    lines: list[LineIn] | None = Field(None, max_length=200)


class DocumentSummary(Schema):
    id: int
    code: str
    type: str
    state: str
    customer: int = Field(alias="customer_id")
    owner: int = Field(alias="owner_id")
    issue_date: datetime.date
    customer_reference: str
    currency: str
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    source: int | None = Field(None, alias="source_id")


class DocumentOut(DocumentSummary):
    valid_until: datetime.date | None
    due_date: datetime.date | None
    notes: str
    next_states: list[str]
    lines: list[LineOut]
    taxes: list[TaxOut]
    fiscal: dict[str, Any]


class DocumentPage(Schema):
    count: int
    count_is_exact: bool
    page: int
    page_size: int
    results: list[DocumentSummary]


class StateIn(Schema):
    state: StateName


class ConvertIn(Schema):
    to: Literal["order", "invoice"]


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    is_active: bool


class OpportunityIn(Schema):
    customer: int
    title: Text = Field(max_length=200)
    amount: Decimal = Field(ge=0, lt=Decimal("1e14"), decimal_places=2)
    currency: Text = Field("", max_length=3)
    expected_close: Date | None = None
    stage: int
    owner: Id | None = None
    source: Id | None = None
    notes: Text = Field("", max_length=4000)


class OpportunityPatch(Schema):
    title: Text | None = Field(None, max_length=200)
    amount: Decimal | None = Field(None, ge=0, lt=Decimal("1e14"), decimal_places=2)
    currency: Text | None = Field(None, max_length=3)
    expected_close: Date | None = None
    stage: Id | None = None
    owner: Id | None = None
    source: Id | None = None
    notes: Text | None = Field(None, max_length=4000)


class OpportunityOut(Schema):
    id: int
    customer: int = Field(alias="customer_id")
    title: str
    amount: Decimal
    currency: str
    expected_close: datetime.date | None
    owner: int = Field(alias="owner_id")
    source: int | None = Field(None, alias="source_id")
    stage: int = Field(alias="stage_id")
    probability: int
    outcome: str
    won_document: int | None = Field(None, alias="won_document_id")
    lost_reason: str
    competitor: str
    closed_at: datetime.datetime | None
    notes: str


class OpportunityPage(Schema):
    count: int
    count_is_exact: bool
    page: int
    page_size: int
    weighted: dict[str, Decimal]
    results: list[OpportunityOut]


class WinIn(Schema):
    document: int | None = Field(None, description="Id of the quote or order that won it")


class LoseIn(Schema):
    lost_reason: ReasonName
    competitor: Text = Field("", max_length=200)


class MonthOut(Schema):
    month: datetime.date
    total: Decimal


class YearOut(Schema):
    year: int
    total: Decimal
    invoices: int


class ProductBoughtOut(Schema):
    product: int | None
    code: str | None
    description: str
    quantity: Decimal
    amount: Decimal
    last: datetime.date | None


class HistoryOut(Schema):
    invoices: int
    total: Decimal
    last_purchase: datetime.date | None
    average_order: Decimal | None
    months: list[MonthOut]
    years: list[YearOut]
    products: list[ProductBoughtOut]
    open_documents: list[DocumentSummary]


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=200)


class DocumentParams(PageParams):
    type: TypeName | None = None
    state: StateName | None = None
    customer: Id | None = None


class OpportunityParams(PageParams):
    outcome: Literal["open", "won", "lost"] | None = None
    customer: Id | None = None
    stage: Id | None = None
