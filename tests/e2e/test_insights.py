"""Portfolio analysis in Chromium: the dashboard's charts, and a bar that opens the list."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from tests.e2e.conftest import login, shot
from tests.insights.conftest import Portfolio, portfolio  # noqa: F401 (the fixture)

pytestmark = pytest.mark.e2e


def test_a_manager_clicks_a_bar_and_lands_on_the_filtered_list(
    page: Page,
    live_server: Any,
    manager: User,
    portfolio: Portfolio,  # noqa: F811
) -> None:
    # given the small portfolio and its figures
    login(page, live_server, manager)
    # when the manager opens the dashboard
    page.goto(f"{live_server.url}/insights/")
    expect(page.locator("#chart-stage svg")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(10)
    shot(page, "insights-dashboard")
    # and clicks the bar of the clients
    with page.expect_navigation():
        page.locator('#chart-stage a.bar-link[data-key="client"]').click()
    # then the customer list shows the four clients, filtered by stage
    assert page.url.endswith("/customers/?stage=client")
    for name in ("Alfa SL", "Beta SL", "Fi SL", "Hache SL"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("link", name="Gamma lead")).to_have_count(0)


def test_a_bar_of_losses_opens_the_customers_lost_to_that_competitor(
    page: Page,
    live_server: Any,
    manager: User,
    portfolio: Portfolio,  # noqa: F811
) -> None:
    login(page, live_server, manager)
    page.goto(f"{live_server.url}/insights/?months=3")
    page.locator("#chart-competitor details summary").click()
    shot(page, "insights-table")
    with page.expect_navigation():
        page.locator('#chart-competitor a.bar-link[data-key="Rival SA"]').click()
    expect(page.get_by_role("link", name="Delta SL")).to_be_visible()
    expect(page.get_by_role("link", name="Gi SL")).to_be_visible()
    expect(page.get_by_role("link", name="Iota SL")).to_have_count(0)
