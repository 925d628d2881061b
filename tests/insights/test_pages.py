"""The dashboard page, its links, CSV exports, the API, visibility and the query count."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cartera.accounts.models import Role, User
from cartera.core.models import Company, VisibilityMode
from cartera.customers.models import Customer
from cartera.insights import services
from cartera.insights.export import chart_csv
from cartera.insights.models import PortfolioCell
from cartera.insights.services import Chart, Column, Filters, Row
from cartera.insights.snapshot import refresh_figures
from cartera.insights.visibility import visible_rows
from tests.conftest import bearer, client_for, make_user
from tests.insights.conftest import Portfolio


def english(user: User) -> Any:
    """A client of ``user`` with the interface in English."""
    user.language = "en"
    user.save(update_fields=["language"])
    return client_for(user)


def test_a_salesperson_counts_only_their_team_customers(
    portfolio: Portfolio, owner: User, outsider: User
) -> None:
    # given team visibility: the owner sees team Norte (7 customers), the outsider team Sur (2)
    everything = Filters(today=portfolio.today)
    # then the other team's customers, sales, losses and pipeline count for nobody else
    assert services.customers_by_stage(owner, everything).total("customers") == 7
    assert services.sales_by_month(owner, everything).summary["net"] == Decimal("1100")
    assert services.losses_by_reason(owner, everything).summary["losses"] == 3
    assert services.pipeline_by_stage(owner, everything).summary["amount"] == Decimal("1000")
    assert services.revenue_segments(owner, everything).summary["revenue"] == Decimal("1100")
    assert services.customers_by_stage(outsider, everything).total("customers") == 2
    # and asking for the other team's owner gives nothing, not their figures
    theirs = Filters(today=portfolio.today, owner_id=outsider.pk)
    assert services.customers_by_stage(owner, theirs).total("customers") == 0


@pytest.mark.parametrize("actor", ["owner", "teammate", "outsider", "reader", "manager",
                                   "admin_user"])  # fmt: skip
def test_snapshot_visibility_is_that_of_the_customer_list(
    portfolio: Portfolio, actor: str, request: pytest.FixtureRequest
) -> None:
    # given one blocked customer (visible to administrators only)
    Customer.objects.filter(pk=portfolio.customers["B"].pk).update(blocked_at="2026-01-01T00:00Z")
    refresh_figures(portfolio.today)
    user = request.getfixturevalue(actor)
    for mode in (VisibilityMode.TEAM, VisibilityMode.ALL):
        Company.objects.filter(pk=1).update(visibility_mode=mode)
        live = Customer.objects.visible_to(user).current().count()
        snap = sum(
            visible_rows(PortfolioCell.objects.all(), user).values_list("customers", flat=True)
        )
        assert snap == live, (actor, mode)


def test_the_dashboard_shows_every_chart_with_links_to_the_filtered_list(
    portfolio: Portfolio, manager: User, owner: User
) -> None:
    response = english(manager).get("/insights/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in services.CHARTS:
        assert f'id="chart-{name}"' in html
    assert html.count("<svg") == len(services.CHARTS)
    assert '<title id="stage-title">Customers by stage</title>' in html
    assert 'href="/customers/?stage=client"' in html
    assert 'href="/customers/?activity=never"' in html
    assert 'href="/customers/?revenue_segment=top"' in html
    assert 'href="/customers/?loss_reason=competitor"' in html
    assert 'href="/customers/?lost_to=Rival+SA"' in html
    assert 'href="/customers/?country=ES&amp;region=ES-B"' in html
    assert f'href="/customers/?owner={owner.pk}"' in html
    assert "Figures computed on" in html
    assert 'id="refresh-figures"' in html


def test_links_carry_the_owner_filter(portfolio: Portfolio, manager: User, owner: User) -> None:
    html = client_for(manager).get(f"/insights/?owner={owner.pk}").content.decode()
    assert f'href="/customers/?owner={owner.pk}&amp;stage=lead"' in html
    assert f'href="/customers/?owner={owner.pk}&amp;loss_reason=ceased"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stage=lost", {"D", "G", "I"}),
        ("loss_reason=competitor", {"D", "G"}),
        ("lost_to=rival sa", {"D", "G"}),
        ("revenue_segment=top", {"H"}),
        ("revenue_segment=rest", {"B", "F"}),
        ("revenue_segment=none", {"C", "D", "E", "G", "I"}),
        ("country=ES&region=ES-B", {"F"}),
        ("activity=inactive", {"B"}),
    ],
)
def test_the_filtered_list_holds_the_customers_the_bar_counts(
    portfolio: Portfolio, manager: User, query: str, expected: set[str]
) -> None:
    response = client_for(manager).get(f"/customers/?{query}")
    assert response.status_code == 200
    names = {code for code, c in portfolio.customers.items() if c.legal_name in response.text}
    assert names == expected


def test_a_salesperson_opens_on_their_own_portfolio(portfolio: Portfolio, owner: User) -> None:
    html = english(owner).get("/insights/").content.decode()
    assert f'<option value="{owner.pk}" selected>' in html
    assert f'href="/customers/?owner={owner.pk}&amp;stage=client"' in html
    assert 'name="team"' not in html  # the team filter is for managers
    assert 'id="refresh-figures"' not in html
    # "All owners" shows what they may see: the team's seven customers
    everything = client_for(owner).get("/insights/?owner=").content.decode()
    assert 'href="/customers/?stage=client"' in everything


def test_the_dashboard_has_a_fixed_number_of_queries(portfolio: Portfolio, manager: User) -> None:
    client = client_for(manager)
    client.get("/insights/")
    with CaptureQueriesContext(connection) as few:
        client.get("/insights/?months=3")
    # more owners, customers, regions and losses: the same queries
    for n in range(3):
        extra = make_user(f"extra{n}", role=Role.SALESPERSON)
        Customer.objects.filter(pk=portfolio.customers["C"].pk).update(owner=extra)
    refresh_figures(portfolio.today)
    with CaptureQueriesContext(connection) as more:
        client.get("/insights/?months=24")
    assert len(more) == len(few)
    assert len(few) <= 20


def test_csv_export_of_a_table_in_english_and_spanish(portfolio: Portfolio, manager: User) -> None:
    client = english(manager)
    response = client.get("/insights/export.csv?chart=segment")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Segment", "Customers", "% of customers", "Net sales", "% of sales"]
    assert rows[1] == ["Top 20%", "1", "11.1", "9000.00", "89.1"]
    manager.language = "es"
    manager.save(update_fields=["language"])
    spanish = client.get("/insights/export.csv?chart=segment").content.decode("utf-8-sig")
    first, second = spanish.splitlines()[:2]
    assert first.count(";") == 4
    assert second.endswith(";9000,00;89,1")
    assert client.get("/insights/export.csv?chart=nothing").status_code == 404


def test_csv_neutralises_formulas() -> None:
    translation.activate("en")
    chart = Chart("competitor", "Losses", "Competitor", [Column("losses", "Losses")], ["losses"])
    names = ('=HYPERLINK("http://x")', "+1 (x)", "-2+3", "@SUM(A1)", "\tTab", "-", "Normal")
    for name in (*names, "+51 73 808556"):
        chart.rows.append(Row(name, name, {"losses": 1}))
    chart.label_header = "=Competitor"
    rows = list(csv.reader(io.StringIO(chart_csv(chart).lstrip("\ufeff"))))
    assert rows[0][0] == "'=Competitor"
    labels = [r[0] for r in rows[1:]]
    assert labels == [*("'" + name for name in names[:-1]), "Normal", "+51 73 808556"]


def test_the_api_gives_the_same_figures(portfolio: Portfolio, owner: User) -> None:
    response = client_for(owner).get(
        "/api/insights?chart=loss_reason&chart=stage", **bearer(owner, "read")
    )
    assert response.status_code == 200
    data = response.json()
    assert set(data["charts"]) == {"loss_reason", "stage"}
    assert data["computed_at"] is not None
    losses = data["charts"]["loss_reason"]
    assert losses["summary"] == {"losses": 3, "recoverable": 2, "recoverable_share": "66.7"}
    stage = {row["key"]: row["customers"] for row in data["charts"]["stage"]["rows"]}
    assert sum(stage.values()) == 7  # the team's customers, not the other team's
    longer = client_for(owner).get("/api/insights?months=24&owner=999999")
    assert longer.status_code == 200
    assert longer.json()["months"] == 24
    assert len(longer.json()["charts"]["sales"]["rows"]) == 24
    assert sum(r["customers"] for r in longer.json()["charts"]["stage"]["rows"]) == 0
    bad = client_for(owner).get("/api/insights?months=5&chart=nope")
    assert bad.status_code == 422
    assert {tuple(d["loc"]) for d in bad.json()["detail"]} == {
        ("query", "months"), ("query", "chart", 0),
    }  # fmt: skip


def test_a_manager_queues_a_refresh_and_a_salesperson_may_not(
    portfolio: Portfolio, manager: User, owner: User
) -> None:
    from django_tasks_db.models import DBTaskResult

    assert client_for(owner).post("/insights/refresh/").status_code == 403
    response = client_for(manager).post("/insights/refresh/")
    assert response.status_code == 302
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_figures_job").count() == 1


def test_without_a_snapshot_the_page_says_so(db: Any, admin_user: User) -> None:
    html = english(admin_user).get("/insights/").content.decode()
    assert "have not been computed yet" in html
    assert "Nothing to show yet." not in html or "<svg" in html
