"""The dashboard's figures: one function per chart, one SQL query each, read from snapshots.

The view, the CSV export and the API call the same functions, so the three always agree.
Every function starts from ``visible_rows`` (the visibility of ``Customer.objects.visible_to``)
and the dashboard's filters (period, owner, team).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core.countries import country_name, region_name
from cartera.customers.models import Activity, LossReason, Stage, Status
from cartera.insights.models import (
    LossCell,
    MonthlySales,
    PipelineCell,
    PortfolioCell,
    RegionCell,
    RevenueSegment,
    SnapshotRun,
)
from cartera.insights.snapshot import month_start
from cartera.insights.visibility import visible_rows
from cartera.sales.models import PipelineStage

Number = int | Decimal
PERIODS = (3, 6, 12, 24)
DEFAULT_PERIOD = 12
TOP_ROWS = 12  # regions and competitors beyond these are summed up as "Others"
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to: the last ``months`` months, an owner, a team."""

    months: int = DEFAULT_PERIOD
    owner_id: int | None = None
    team_id: int | None = None
    today: datetime.date | None = None

    @property
    def since(self) -> datetime.date:
        return month_start(self.today or timezone.localdate(), self.months - 1)

    def list_params(self) -> dict[str, str]:
        """The customer list's filters that say the same (the list has no team filter)."""
        return {"owner": str(self.owner_id)} if self.owner_id else {}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    money: bool = False
    percent: bool = False


@dataclass
class Row:
    key: str
    label: str
    values: dict[str, Number]
    link: str = ""  # where the bar leads: the customer list filtered to these customers


@dataclass
class Chart:
    """A chart and its table: rows of values, the columns drawn as bars or a line."""

    name: str
    title: str
    label_header: str
    columns: list[Column]
    series: list[str]  # the columns drawn, stacked or side by side
    rows: list[Row] = field(default_factory=list)
    kind: str = "bars"  # bars, stacked, line
    note: str = ""
    link: str = ""  # a page about the whole chart (invoices, the pipeline board)
    summary: dict[str, Number] = field(default_factory=dict)

    def total(self, key: str) -> Number:
        return sum((row.values.get(key, 0) for row in self.rows), 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": str(self.title),
            "columns": [{"key": c.key, "header": str(c.header)} for c in self.columns],
            "rows": [
                {"key": r.key, "label": r.label, "link": r.link, **r.values} for r in self.rows
            ],
            "summary": self.summary,
            "note": str(self.note),
        }


def _list_link(filters: Filters, **params: str) -> str:
    query = {**filters.list_params(), **params}
    return f"{reverse('customers:list')}?{urlencode(query)}"


def _scoped(rows: QuerySet[Any], user: Any, filters: Filters) -> QuerySet[Any]:
    rows = visible_rows(rows, user)
    if filters.owner_id:
        rows = rows.filter(owner_id=filters.owner_id)
    if filters.team_id:
        rows = rows.filter(owner__team_id=filters.team_id)
    return rows.order_by()


def _share(part: Number, whole: Number) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


def _customers() -> Column:
    return Column("customers", _("Customers"))


def _by_choice(
    name: str, title: Any, header: Any, dimension: str, choices: list[tuple[str, Any]]
) -> Callable[[Any, Filters], Chart]:
    """A chart of current customers by one of their fields: one bar per choice."""

    def build(user: Any, filters: Filters) -> Chart:
        found = dict(
            _scoped(PortfolioCell.objects.all(), user, filters)
            .values_list(dimension)
            .annotate(n=Sum("customers"))
        )
        chart = Chart(name, str(title), str(header), [_customers()], ["customers"])
        for value, label in choices:
            count = int(found.get(value) or 0)
            link = _list_link(filters, **{dimension: value})
            chart.rows.append(Row(value, str(label), {"customers": count}, link))
        return chart

    return build


customers_by_stage = _by_choice(
    "stage", gettext_lazy("Customers by stage"), gettext_lazy("Stage"), "stage", Stage.choices
)
customers_by_status = _by_choice(
    "status", gettext_lazy("Customers by status"), gettext_lazy("Status"), "status",
    Status.choices,
)  # fmt: skip
customers_by_activity = _by_choice(
    "activity", gettext_lazy("Customers by purchase activity"),
    gettext_lazy("Purchase activity"), "activity", Activity.choices,
)  # fmt: skip


def customers_by_owner(user: Any, filters: Filters) -> Chart:
    """Current customers of each owner, stacked by stage, the largest portfolios first."""
    found = (
        _scoped(PortfolioCell.objects.all(), user, filters)
        .values_list("owner_id", "owner__first_name", "owner__last_name", "owner__username",
                     "stage")
        .annotate(n=Sum("customers"))
    )  # fmt: skip
    names: dict[int, str] = {}
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for owner_id, first, last, username, stage, n in found:
        names[owner_id] = " ".join(p for p in (first, last) if p) or username
        counts[owner_id][stage] = int(n or 0)
    columns = [Column(value, str(label)) for value, label in Stage.choices]
    chart = Chart(
        "owner", _("Customers by owner"), _("Owner"),
        [*columns, Column("customers", _("Total"))], [c.key for c in columns], kind="stacked",
    )  # fmt: skip
    for owner_id, by_stage in counts.items():
        values: dict[str, Number] = {value: by_stage.get(value, 0) for value, _l in Stage.choices}
        values["customers"] = sum(by_stage.values())
        link = _list_link(Filters(), owner=str(owner_id))
        chart.rows.append(Row(str(owner_id), names[owner_id], values, link))
    chart.rows.sort(key=lambda r: (-r.values["customers"], r.label.casefold()))
    return chart


def customers_by_region(user: Any, filters: Filters) -> Chart:
    """Current customers by the region (or country) of their fiscal address."""
    found = (
        _scoped(RegionCell.objects.all(), user, filters)
        .values_list("country", "region")
        .annotate(n=Sum("customers"))
    )
    chart = Chart(
        "region", _("Customers by region"), _("Region of the fiscal address"), [_customers()],
        ["customers"],
        note=_("Regions with the most customers; the list also finds customers with another "
               "address in the region."),
    )  # fmt: skip
    rows = []
    for country, region, n in found:
        if not country:
            rows.append(Row("", _("No fiscal address"), {"customers": int(n or 0)}))
            continue
        if region:
            label = f"{region_name(region)} ({country_name(country)})"
            link = _list_link(filters, country=country, region=region)
        else:
            label = f"{country_name(country)} · {_('no region')}"
            link = _list_link(filters, country=country)
        rows.append(Row(f"{country}|{region}", label, {"customers": int(n or 0)}, link))
    rows.sort(key=lambda r: (-r.values["customers"], r.label))
    chart.rows = _top(rows, "customers")
    return chart


def _top(rows: list[Row], key: str) -> list[Row]:
    if len(rows) <= TOP_ROWS:
        return rows
    others = sum((r.values[key] for r in rows[TOP_ROWS:]), 0)
    return [*rows[:TOP_ROWS], Row("others", _("Others"), {key: others})]


def revenue_segments(user: Any, filters: Filters) -> Chart:
    """Pareto: the top 20% of buying customers by net sales of the last 12 months, the next
    30%, the other 50%, and the customers without purchases; each one's share of sales."""
    found = {
        segment: (int(n or 0), Decimal(revenue or 0))
        for segment, n, revenue in _scoped(PortfolioCell.objects.all(), user, filters)
        .values_list("segment")
        .annotate(n=Sum("customers"), revenue=Sum("revenue"))
    }
    total_revenue = sum((r for _n, r in found.values()), Decimal(0))
    total_customers = sum(n for n, _r in found.values())
    chart = Chart(
        "segment", _("Sales concentration (last 12 months)"), _("Segment"),
        [_customers(), Column("customer_share", _("% of customers"), percent=True),
         Column("revenue", _("Net sales"), money=True),
         Column("revenue_share", _("% of sales"), percent=True)],
        ["revenue_share"],
        note=_("Customers that bought, ranked by net sales across the whole company; the "
               "segments are recomputed with the figures."),
    )  # fmt: skip
    for value, label in RevenueSegment.choices:
        n, revenue = found.get(value, (0, Decimal(0)))
        values: dict[str, Number] = {
            "customers": n,
            "customer_share": _share(n, total_customers),
            "revenue": revenue,
            "revenue_share": _share(revenue, total_revenue),
        }
        chart.rows.append(
            Row(value, str(label), values, _list_link(filters, revenue_segment=value))
        )
    chart.summary = {"top_share": chart.rows[0].values["revenue_share"], "revenue": total_revenue}
    return chart


def pipeline_by_stage(user: Any, filters: Filters) -> Chart:
    """Open opportunities by stage: their amount, and the amount × the stage's probability."""
    found = {
        stage_id: (int(n or 0), Decimal(amount or 0))
        for stage_id, n, amount in _scoped(PipelineCell.objects.all(), user, filters)
        .values_list("stage_id")
        .annotate(n=Sum("opportunities"), amount=Sum("amount"))
    }
    chart = Chart(
        "pipeline", _("Pipeline by stage"), _("Stage"),
        [Column("opportunities", _("Opportunities")), Column("probability", _("Probability %")),
         Column("amount", _("Amount"), money=True),
         Column("weighted", _("Weighted amount"), money=True)],
        ["amount", "weighted"],
        link=reverse("sales:board"),
    )  # fmt: skip
    for stage in _stages(set(found)):
        n, amount = found.get(stage.pk, (0, Decimal(0)))
        weighted = (amount * stage.probability / HUNDRED).quantize(Decimal("0.01"))
        values: dict[str, Number] = {
            "opportunities": n, "probability": stage.probability,
            "amount": amount, "weighted": weighted,
        }  # fmt: skip
        chart.rows.append(Row(str(stage.pk), stage.name, values, reverse("sales:board")))
    chart.summary = {"amount": chart.total("amount"), "weighted": chart.total("weighted")}
    return chart


def _stages(with_opportunities: set[int]) -> list[PipelineStage]:
    # A second query, so that stages without opportunities show too (the list is tiny).
    return [
        s
        for s in PipelineStage.objects.order_by("position", "id")
        if s.is_active or s.pk in with_opportunities
    ]


def sales_by_month(user: Any, filters: Filters) -> Chart:
    """Net sales (invoices not cancelled) of each month of the period, empty months included."""
    today = filters.today or timezone.localdate()
    found = {
        month: (int(i or 0), int(c or 0), Decimal(net or 0))
        for month, i, c, net in _scoped(MonthlySales.objects.all(), user, filters)
        .filter(month__gte=filters.since)
        .values_list("month")
        .annotate(i=Sum("invoices"), c=Sum("customers"), net=Sum("net"))
    }
    chart = Chart(
        "sales", _("Sales by month"), _("Month"),
        [Column("net", _("Net sales"), money=True), Column("invoices", _("Invoices")),
         Column("customers", _("Customers who bought"))],
        ["net"], kind="line", link=f"{reverse('sales:documents')}?type=invoice",
        note=_("Invoices that are not cancelled, without taxes, by their date."),
    )  # fmt: skip
    for back in range(filters.months - 1, -1, -1):
        month = month_start(today, back)
        invoices, customers, net = found.get(month, (0, 0, Decimal(0)))
        label = month.strftime("%m/%Y")
        values: dict[str, Number] = {"net": net, "invoices": invoices, "customers": customers}
        chart.rows.append(Row(month.isoformat()[:7], label, values))
    chart.summary = {"net": chart.total("net"), "invoices": chart.total("invoices")}
    return chart


def _losses(user: Any, filters: Filters, dimension: str) -> list[tuple[str, int]]:
    return list(
        _scoped(LossCell.objects.all(), user, filters)
        .filter(month__gte=filters.since)
        .values_list(dimension)
        .annotate(n=Sum("losses"))
    )


def losses_by_reason(user: Any, filters: Filters) -> Chart:
    """Customers lost or gone (former) in the period, by reason; recoverable: not ceased."""
    found = {reason: int(n or 0) for reason, n in _losses(user, filters, "reason")}
    total = sum(found.values())
    chart = Chart(
        "loss_reason", _("Losses by reason"), _("Reason"),
        [Column("losses", _("Losses")), Column("share", _("% of losses"), percent=True)],
        ["losses"],
        note=_("Moves to lost or former client in the period. Recoverable: every reason but "
               "“ceased to exist”. The list shows the customers still lost for that reason."),
    )  # fmt: skip
    choices = [*LossReason.choices, ("", _("No reason recorded"))]
    for value, label in choices:
        n = found.get(value, 0)
        if not value and not n:
            continue
        link = _list_link(filters, loss_reason=value) if value else ""
        chart.rows.append(Row(value, str(label), {"losses": n, "share": _share(n, total)}, link))
    recoverable = total - found.get(LossReason.CEASED, 0)
    chart.summary = {
        "losses": total,
        "recoverable": recoverable,
        "recoverable_share": _share(recoverable, total),
    }
    return chart


def losses_by_competitor(user: Any, filters: Filters) -> Chart:
    """Customers lost to each competitor named in the period, the most first."""
    found = [(name, int(n or 0)) for name, n in _losses(user, filters, "competitor") if name]
    chart = Chart(
        "competitor", _("Losses to competitors"), _("Competitor"),
        [Column("losses", _("Losses"))], ["losses"],
        note=_("Only losses where a competitor was named."),
    )  # fmt: skip
    rows = [
        Row(name, name, {"losses": n}, _list_link(filters, lost_to=name))
        for name, n in sorted(found, key=lambda item: (-item[1], item[0].casefold()))
    ]
    chart.rows = _top(rows, "losses")
    return chart


CHARTS: dict[str, Callable[[Any, Filters], Chart]] = {
    "stage": customers_by_stage,
    "status": customers_by_status,
    "activity": customers_by_activity,
    "segment": revenue_segments,
    "sales": sales_by_month,
    "pipeline": pipeline_by_stage,
    "loss_reason": losses_by_reason,
    "competitor": losses_by_competitor,
    "owner": customers_by_owner,
    "region": customers_by_region,
}


@dataclass
class Dashboard:
    charts: dict[str, Chart]
    snapshot: SnapshotRun | None
    filters: Filters


def last_refresh() -> SnapshotRun | None:
    return SnapshotRun.objects.order_by("-computed_at", "-id").first()


def build_dashboard(*, user: Any, filters: Filters) -> Dashboard:
    """Every chart: a fixed number of queries (one per chart, one for the refresh time)."""
    charts = {name: build(user, filters) for name, build in CHARTS.items()}
    return Dashboard(charts=charts, snapshot=last_refresh(), filters=filters)


def build_chart(*, name: str, user: Any, filters: Filters) -> Chart:
    """One chart by name (KeyError when there is no such chart)."""
    return CHARTS[name](user, filters)


__all__ = ["CHARTS", "PERIODS", "Chart", "Dashboard", "Filters", "build_chart", "build_dashboard"]
