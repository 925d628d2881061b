"""Purchase history of a customer: the ficha's panel and the API's figures.

Four queries whatever the customer bought: the years (which give the totals too), the last
twelve months, the products bought, and the open quotes and orders; a customer who never
bought needs only the first and the last.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest
from django.utils import formats, timezone

from cartera.core.dates import add_months
from cartera.customers import panels
from cartera.customers.models import Customer
from cartera.sales.models import OPEN_STATES, DocumentLine, DocumentType, SalesDocument

ZERO = Decimal("0")
MONTHS = 12
TOP_PRODUCTS = 8
OPEN_SHOWN = 10
CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 360, 90, 4


@dataclass
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str  # "03/26"
    value: Decimal


@dataclass
class PurchaseHistory:
    invoices: int = 0
    total: Decimal = ZERO
    last_purchase: datetime.date | None = None
    average_order: Decimal | None = None
    months: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    years: list[tuple[int, Decimal, int]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    open_documents: list[SalesDocument] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    chart_max: Decimal = ZERO


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def purchase_history(customer: Customer, today: datetime.date | None = None) -> PurchaseHistory:
    today = today or timezone.localdate()
    invoices = SalesDocument.objects.invoices().filter(customer=customer).order_by()
    # One query by year gives the totals too; a customer who never bought needs no more.
    years = list(
        invoices.values("year")
        .annotate(total=Sum("total"), n=Count("id"), last=Max("issue_date"))
        .order_by("-year")
    )
    history = PurchaseHistory(
        invoices=sum(row["n"] for row in years),
        total=sum((row["total"] or ZERO for row in years), ZERO),
        last_purchase=max((row["last"] for row in years), default=None),
    )
    history.years = [(row["year"], row["total"] or ZERO, row["n"]) for row in years]
    first_month = add_months(_month_start(today), -(MONTHS - 1))
    monthly: dict[datetime.date, Decimal] = {}
    if history.invoices:
        history.average_order = (history.total / history.invoices).quantize(Decimal("0.01"))
        monthly = {
            _as_date(row["month"]): row["total"] or ZERO
            for row in invoices.filter(issue_date__gte=first_month)
            .annotate(month=TruncMonth("issue_date"))
            .values("month")
            .annotate(total=Sum("total"))
        }
        history.products = list(
            DocumentLine.objects.filter(
                document__customer=customer, document__type=DocumentType.INVOICE
            )
            .exclude(document__state="cancelled")
            .values("product_id", "product__code", "description")
            .annotate(
                quantity=Sum("quantity"), amount=Sum("amount"), last=Max("document__issue_date")
            )
            .order_by("-amount")[:TOP_PRODUCTS]  # type: ignore[arg-type]
        )
    history.months = [
        (month, monthly.get(month, ZERO))
        for month in (add_months(first_month, i) for i in range(MONTHS))
    ]
    history.open_documents = list(
        SalesDocument.objects.filter(
            Q(type=DocumentType.QUOTE, state__in=OPEN_STATES)
            | Q(type=DocumentType.ORDER, state__in=OPEN_STATES),
            customer=customer,
        ).order_by("-issue_date", "-id")[:OPEN_SHOWN]
    )
    history.bars, history.chart_max = _bars(history.months)
    return history


def _as_date(value: Any) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _bars(months: list[tuple[datetime.date, Decimal]]) -> tuple[list[Bar], Decimal]:
    """The monthly totals as SVG bars (heights relative to the largest month)."""
    top = max((value for _m, value in months), default=ZERO)
    width = (CHART_WIDTH - BAR_GAP * (len(months) - 1)) // max(len(months), 1)
    bars = []
    for index, (month, value) in enumerate(months):
        height = int(value / top * (CHART_HEIGHT - 2)) if top else 0
        if value and height < 1:
            height = 1
        bars.append(
            Bar(
                x=index * (width + BAR_GAP),
                y=CHART_HEIGHT - height,
                width=width,
                height=height,
                label=formats.date_format(month, "m/y"),
                value=value,
            )
        )
    return bars, top


def purchase_history_panel(request: HttpRequest, customer: Any, user: Any) -> dict[str, Any]:
    """Context of the ficha's Sales panel: four queries at most (two when the customer never
    bought); the right to sell and the company's rule are those the ficha already read."""
    from cartera.activities.services import may_get_new_work

    return {
        "customer": customer,
        "history": purchase_history(customer),
        "can_sell": panels.editable(request, customer, user)
        and may_get_new_work(customer, panels.company(request)),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
    }
