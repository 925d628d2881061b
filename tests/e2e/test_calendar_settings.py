"""The calendar and digest page in Chromium: make the address, read it once, revoke it."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.activities.models import CalendarFeed, Task
from tests.conftest import make_lead
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


def test_making_reading_and_revoking_the_calendar_address(
    page: Page, live_server: Any, owner: User
) -> None:
    # given olga with a task for today
    customer = make_lead(owner, "Ferretería Núñez")
    Task.objects.create(
        customer=customer, type="call", subject="Llamar", due_date=timezone.localdate(),
        assignee=owner, due_time=datetime.time(10, 0),
    )  # fmt: skip
    login(page, live_server, owner)

    # when she opens the page from her menu and makes her address
    page.locator("summary", has_text=str(owner)).click()
    page.locator("a[href='/accounts/calendar/']").click()
    expect(page.locator("#feed-state")).to_be_visible()
    shot(page, "40-calendar-settings-empty")
    with page.expect_navigation():
        page.locator("button[name=action][value=create]").click()

    # then the address is shown once, and it serves her task to anyone holding it
    url = page.locator("#calendar-url").input_value().strip()
    assert re.search(r"/calendar/cal_[\w-]+\.ics$", url)
    shot(page, "41-calendar-settings-new-address")
    key = url.rsplit("/", 1)[1].removesuffix(".ics")
    response = Client().get(f"/calendar/{key}.ics")
    assert b"SUMMARY:Llamar" in response.content
    page.reload()
    expect(page.locator("#calendar-url")).to_have_count(0)

    # when she revokes it, it stops working
    with page.expect_navigation():
        page.locator("button[name=action][value=revoke]").click()
    assert not CalendarFeed.objects.filter(user=owner).exists()
    assert Client().get(f"/calendar/{key}.ics").status_code == 404
    shot(page, "42-calendar-settings-revoked")
