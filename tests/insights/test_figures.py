"""Every figure of the dashboard, exact, on the small portfolio of conftest."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from cartera.accounts.models import User
from cartera.customers.models import Customer
from cartera.insights import services
from cartera.insights.models import CustomerRevenue, RevenueSegment
from cartera.insights.services import Filters
from cartera.insights.snapshot import month_start, refresh_figures
from tests.insights.conftest import Portfolio


@pytest.fixture(autouse=True)
def english() -> None:
    translation.activate("en")


def values(chart: services.Chart, key: str) -> dict[str, object]:
    return {row.key: row.values[key] for row in chart.rows}


def test_customers_by_stage_status_and_activity(portfolio: Portfolio, manager: User) -> None:
    # given the whole portfolio, as a manager sees it
    filters = Filters(today=portfolio.today)
    # when / then
    stage = services.customers_by_stage(manager, filters)
    assert values(stage, "customers") == {
        "lead": 1, "prospect": 0, "client": 4, "former": 1, "lost": 3,
    }  # fmt: skip
    assert values(services.customers_by_status(manager, filters), "customers") == {
        "active": 9, "inactive": 0, "suspended": 0,
    }  # fmt: skip
    # A, F and H bought this month, B two months ago (over 45 days: inactive)
    assert values(services.customers_by_activity(manager, filters), "customers") == {
        "active": 3, "pre_inactive": 0, "inactive": 1, "never": 5,
    }  # fmt: skip


def test_customers_by_owner_are_stacked_by_stage(
    portfolio: Portfolio, manager: User, owner: User, teammate: User, outsider: User
) -> None:
    chart = services.customers_by_owner(manager, Filters(today=portfolio.today))
    rows = {row.key: row.values for row in chart.rows}
    assert rows[str(owner.pk)] == {
        "lead": 1, "prospect": 0, "client": 2, "former": 1, "lost": 1, "customers": 5,
    }  # fmt: skip
    assert rows[str(teammate.pk)]["customers"] == 2
    assert rows[str(outsider.pk)]["customers"] == 2
    assert chart.rows[0].key == str(owner.pk)  # the largest portfolio first


def test_customers_by_region_of_the_fiscal_address(portfolio: Portfolio, manager: User) -> None:
    chart = services.customers_by_region(manager, Filters(today=portfolio.today))
    found = values(chart, "customers")
    assert found["ES|ES-B"] == 1  # F, in Barcelona
    assert found["ES|ES-M"] == 7  # the other clients: their fiscal address is in Madrid
    assert found[""] == 1  # the lead C has no address
    assert chart.rows[-1].link == ""  # and no list to lead to


def test_revenue_segments_rank_customers_by_sales_of_the_last_12_months(
    portfolio: Portfolio, manager: User
) -> None:
    # given net sales H 9000, A 800, B 200, F 100: four buyers, 10100 in all
    chart = services.revenue_segments(manager, Filters(today=portfolio.today))
    # then the top 20% is ceil(4/5) = 1 customer, the next 30% up to ceil(4/2) = 2
    rows = {row.key: row.values for row in chart.rows}
    assert rows["top"] == {
        "customers": 1, "customer_share": Decimal("11.1"), "revenue": Decimal("9000"),
        "revenue_share": Decimal("89.1"),
    }  # fmt: skip
    assert rows["middle"]["customers"] == 1 and rows["middle"]["revenue"] == Decimal("800")
    assert rows["rest"]["customers"] == 2 and rows["rest"]["revenue"] == Decimal("300")
    assert rows["none"]["customers"] == 5
    assert chart.summary["top_share"] == Decimal("89.1")
    c = portfolio.customers
    segments = dict(CustomerRevenue.objects.values_list("customer_id", "segment"))
    assert segments == {
        c["H"].pk: RevenueSegment.TOP, c["A"].pk: RevenueSegment.MIDDLE,
        c["B"].pk: RevenueSegment.REST, c["F"].pk: RevenueSegment.REST,
    }  # fmt: skip


def test_sales_by_month_fill_empty_months(portfolio: Portfolio, manager: User) -> None:
    chart = services.sales_by_month(manager, Filters(months=3, today=portfolio.today))
    assert [row.key for row in chart.rows] == [
        month_start(portfolio.today, n).isoformat()[:7] for n in (2, 1, 0)
    ]
    # this month: A 100+100+100+500, F 100, H 9000; two months ago: B 200
    assert [row.values["net"] for row in chart.rows] == [Decimal("200"), 0, Decimal("9900")]
    assert chart.rows[2].values["invoices"] == 6
    assert chart.rows[2].values["customers"] == 3
    assert chart.summary == {"net": Decimal("10100"), "invoices": 7}


def test_pipeline_raw_and_weighted_by_stage(portfolio: Portfolio, manager: User) -> None:
    chart = services.pipeline_by_stage(manager, Filters(today=portfolio.today))
    first = chart.rows[0].values
    probability = first["probability"]
    assert first["opportunities"] == 2
    assert first["amount"] == Decimal("6000")
    assert first["weighted"] == Decimal("6000") * Decimal(probability) / 100
    assert all(row.values["amount"] == 0 for row in chart.rows[1:])
    assert chart.summary["weighted"] == first["weighted"]


def test_losses_by_reason_and_the_recoverable_share(portfolio: Portfolio, manager: User) -> None:
    chart = services.losses_by_reason(manager, Filters(today=portfolio.today))
    found = values(chart, "losses")
    assert found == {
        "non_payment": 1, "unused": 0, "competitor": 2, "ceased": 1, "not_interested": 0,
        "other": 0,
    }  # fmt: skip
    # four losses, one of them a customer that ceased to exist: 3 of 4 recoverable
    assert chart.summary == {"losses": 4, "recoverable": 3, "recoverable_share": Decimal("75.0")}
    assert values(chart, "share")["competitor"] == Decimal("50.0")


def test_losses_by_competitor_merge_spellings(portfolio: Portfolio, manager: User) -> None:
    chart = services.losses_by_competitor(manager, Filters(today=portfolio.today))
    assert [(row.label, row.values["losses"]) for row in chart.rows] == [("Rival SA", 2)]


def test_the_owner_and_team_filters_narrow_every_figure(
    portfolio: Portfolio, manager: User, owner: User
) -> None:
    mine = Filters(today=portfolio.today, owner_id=owner.pk)
    assert services.customers_by_stage(manager, mine).total("customers") == 5
    assert services.sales_by_month(manager, mine).summary["net"] == Decimal("1000")
    assert services.losses_by_reason(manager, mine).summary["losses"] == 2
    assert owner.team_id is not None
    team = Filters(today=portfolio.today, team_id=owner.team_id)
    assert services.customers_by_stage(manager, team).total("customers") == 7
    assert services.losses_by_competitor(manager, team).rows[0].values["losses"] == 2


def test_an_archived_customer_leaves_the_counts(portfolio: Portfolio, manager: User) -> None:
    Customer.objects.filter(pk=portfolio.customers["C"].pk).update(archived_at="2026-01-01T00:00Z")
    refresh_figures(portfolio.today)
    stage = services.customers_by_stage(manager, Filters(today=portfolio.today))
    assert values(stage, "customers")["lead"] == 0
