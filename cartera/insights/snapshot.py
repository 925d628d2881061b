"""The refresh: aggregate the register, the invoices, the losses and the pipeline into the
small tables the dashboard reads (see ``models``). One transaction: readers see the old
figures or the new ones, never half of each."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import BooleanField, Case, Count, F, FilteredRelation, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from cartera.activities.models import ChangeField, LifecycleChange
from cartera.customers.models import Activity, AddressType, Customer, Stage
from cartera.insights.models import (
    ZERO,
    CustomerRevenue,
    LossCell,
    MonthlySales,
    PipelineCell,
    PortfolioCell,
    RegionCell,
    RevenueSegment,
    SnapshotRun,
)
from cartera.sales.models import DocumentState, DocumentType, Opportunity, SalesDocument

# Months of sales and losses kept: the longest period the dashboard offers.
MONTHS_KEPT = 24
LOSS_STAGES = (Stage.LOST, Stage.FORMER)
FISCAL = AddressType.FISCAL.value
BATCH = 2000


def month_start(day: datetime.date, months_back: int = 0) -> datetime.date:
    """The first day of the month ``months_back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _blocked(prefix: str = "") -> Case:
    return Case(
        When(**{f"{prefix}blocked_at__isnull": True}, then=Value(False)),
        default=Value(True),
        output_field=BooleanField(),
    )


def refresh_figures(today: datetime.date | None = None) -> dict[str, Any]:
    """Recompute every snapshot table from the live data; how many rows each one got."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    with transaction.atomic():
        counts = {
            "customer_revenue": _customer_revenue(today),
            "portfolio": _replace(PortfolioCell, _portfolio_cells()),
            "regions": _replace(RegionCell, _region_cells()),
            "monthly_sales": _replace(MonthlySales, _monthly_sales(today)),
            "losses": _replace(LossCell, _loss_cells(today)),
            "pipeline": _replace(PipelineCell, _pipeline_cells()),
        }
        seconds = round(time.perf_counter() - started, 3)
        SnapshotRun.objects.create(computed_at=timezone.now(), as_of=today, seconds=seconds)
        # Older runs are only history: keep the last few.
        keep = SnapshotRun.objects.values_list("pk", flat=True)[:10]
        SnapshotRun.objects.exclude(pk__in=list(keep)).delete()
    return {**counts, "seconds": seconds}


def _replace(model: type[models.Model], rows: Iterable[models.Model]) -> int:
    model._default_manager.all().delete()
    created = model._default_manager.bulk_create(list(rows), batch_size=BATCH)
    return len(created)


def _customer_revenue(today: datetime.date) -> int:
    """Rank current customers by net sales of the last 12 months, in SQL (one statement).

    With N customers that bought, the first ceil(N/5) by revenue are the top 20%, the next
    ones up to ceil(N/2) the next 30%, the others the remaining 50%. Ties go by id.
    """
    CustomerRevenue.objects.all().delete()
    table = connection.ops.quote_name(CustomerRevenue._meta.db_table)
    documents = connection.ops.quote_name(SalesDocument._meta.db_table)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    sql = f"""
        INSERT INTO {table} (customer_id, revenue, invoices, segment)
        SELECT customer_id, revenue, invoices,
               CASE WHEN 5 * (position - 1) < buyers THEN %s
                    WHEN 2 * (position - 1) < buyers THEN %s
                    ELSE %s END
        FROM (
            SELECT d.customer_id AS customer_id, SUM(d.subtotal) AS revenue,
                   COUNT(*) AS invoices,
                   ROW_NUMBER() OVER (ORDER BY SUM(d.subtotal) DESC, d.customer_id) AS position,
                   COUNT(*) OVER () AS buyers
            FROM {documents} d JOIN {customers} c ON c.id = d.customer_id
            WHERE d.type = %s AND d.state <> %s AND d.issue_date >= %s AND d.issue_date <= %s
              AND c.archived_at IS NULL
            GROUP BY d.customer_id
            HAVING SUM(d.subtotal) > 0
        ) ranked
    """  # noqa: S608 (table names from the models, values as parameters)
    params: list[Any] = [
        RevenueSegment.TOP.value, RevenueSegment.MIDDLE.value, RevenueSegment.REST.value,
        DocumentType.INVOICE.value, DocumentState.CANCELLED.value, month_start(today, 11), today,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _portfolio_cells() -> Iterable[PortfolioCell]:
    rows = (
        Customer.objects.filter(archived_at__isnull=True)
        .order_by()
        .values(
            "owner_id", "stage", "status",
            activity=Coalesce("purchase__activity", Value(Activity.NEVER.value)),
            blocked=_blocked(),
            segment=Coalesce("insights_revenue__segment", Value(RevenueSegment.NONE.value)),
        )
        .annotate(customers=Count("id"), revenue=Coalesce(Sum("insights_revenue__revenue"), ZERO))
    )  # fmt: skip
    for row in rows:
        yield PortfolioCell(**row)


def _region_cells() -> Iterable[RegionCell]:
    rows = (
        Customer.objects.filter(archived_at__isnull=True)
        .annotate(fiscal=FilteredRelation("addresses", condition=Q(addresses__type=FISCAL)))
        .order_by()
        .values(
            "owner_id",
            blocked=_blocked(),
            country=Coalesce("fiscal__country", Value("")),
            region=Coalesce("fiscal__region", Value("")),
        )
        .annotate(customers=Count("id"))
    )  # fmt: skip
    for row in rows:
        yield RegionCell(**row)


def _monthly_sales(today: datetime.date) -> Iterable[MonthlySales]:
    rows = (
        SalesDocument.objects.invoices()
        .filter(issue_date__gte=month_start(today, MONTHS_KEPT - 1), issue_date__lte=today)
        .order_by()
        .values(
            customer_owner=F("customer__owner_id"),
            blocked=_blocked("customer__"),
            month=TruncMonth("issue_date", output_field=models.DateField()),
        )
        .annotate(
            invoices=Count("id"),
            customers=Count("customer_id", distinct=True),
            net=Sum("subtotal"),
            total=Sum("total"),
        )
    )
    for row in rows:
        fields: dict[str, Any] = dict(row)
        yield MonthlySales(owner_id=fields.pop("customer_owner"), **fields)


def _loss_cells(today: datetime.date) -> Iterable[LossCell]:
    """Moves to lost or former; competitors' names are merged whatever their case or spaces."""
    since = timezone.make_aware(
        datetime.datetime.combine(month_start(today, MONTHS_KEPT - 1), datetime.time())
    )
    rows = (
        LifecycleChange.objects.filter(
            field=ChangeField.STAGE, new_value__in=LOSS_STAGES, changed_at__gte=since
        )
        .order_by()
        .values(
            "competitor",
            "loss_reason",
            customer_owner=F("customer__owner_id"),
            blocked=_blocked("customer__"),
            month=TruncMonth("changed_at", output_field=models.DateField()),
            new_stage=F("new_value"),
        )
        .annotate(losses=Count("id"))
    )
    spelling: dict[str, str] = {}
    merged: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        name = " ".join(row["competitor"].split())
        name = spelling.setdefault(name.casefold(), name)
        key = (
            row["customer_owner"],
            row["blocked"],
            row["month"],
            row["new_stage"],
            row["loss_reason"],
            name,
        )
        merged[key] += row["losses"]
    for (owner_id, blocked, month, new_stage, reason, name), losses in merged.items():
        yield LossCell(
            owner_id=owner_id, blocked=blocked, month=month, new_stage=new_stage,
            reason=reason, competitor=name, losses=losses,
        )  # fmt: skip


def _pipeline_cells() -> Iterable[PipelineCell]:
    rows = (
        Opportunity.objects.open()
        .order_by()
        .values("stage_id", customer_owner=F("customer__owner_id"), blocked=_blocked("customer__"))
        .annotate(opportunities=Count("id"), amount=Coalesce(Sum("amount"), Decimal("0")))
    )
    for row in rows:
        fields: dict[str, Any] = dict(row)
        yield PipelineCell(owner_id=fields.pop("customer_owner"), **fields)
