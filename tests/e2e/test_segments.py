"""Segments and bulk actions in a real browser: a manager reassigns a saved segment."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import Role, User
from cartera.customers.models import Customer, Segment
from tests.conftest import make_lead, make_user
from tests.e2e.conftest import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_bulk_reassigns_a_segment(page: Page, live_server: Any) -> None:
    # given a salesperson's leads, another salesperson, and a manager
    leaving = make_user("lucia")
    receiver = make_user("ramon")
    manager = make_user("marta", role=Role.MANAGER)
    for i in range(4):
        make_lead(leaving, f"Lead de Lucía {i}")
    make_lead(receiver, "Lead de Ramón")
    login(page, live_server, manager)

    # when the manager filters the list by owner and saves it as a shared segment
    page.goto(f"{live_server.url}/customers/?owner={leaving.pk}&stage=lead")
    page.locator("#segment-save summary").click()
    page.locator("#segment-save input[name=name]").fill("Cartera de Lucía")
    page.locator("#segment-save input[name=shared]").check()
    with page.expect_navigation():
        page.locator("#segment-save button[type=submit]").click()
    segment = Segment.objects.get()
    assert segment.query == f"owner={leaving.pk}&stage=lead" and segment.shared

    # and opens it again from the segments page
    page.goto(f"{live_server.url}/customers/segments/")
    expect(page.locator(f"#segment-{segment.pk}")).to_be_visible()
    shot(page, "segments-page")
    with page.expect_navigation():
        page.locator(f"#segment-{segment.pk} a", has_text="Cartera de Lucía").click()
    expect(page.locator("#current-segment")).to_contain_text("Cartera de Lucía")
    expect(page.locator("#results tbody tr")).to_have_count(4)

    # selects all that match and chooses to assign them to another owner
    page.locator("#bulk-all").check()
    page.locator("#bulk select[name=action]").select_option("assign_owner")
    page.locator("#results tbody input[name=ids]").first.check()
    shot(page, "customer-list-bulk-bar")
    with page.expect_navigation():
        page.locator("#bulk button[type=submit]").click()

    # the confirmation says how many will change once the new owner is chosen
    page.locator("select[name=owner]").select_option(str(receiver.pk))
    expect(page.locator("#bulk-count")).to_contain_text("4")
    shot(page, "bulk-confirm")
    assert Customer.objects.filter(owner=receiver).count() == 1  # nothing changed yet
    with page.expect_navigation():
        page.locator("#bulk-confirm").click()

    # then the list says what happened, and the leads are the other salesperson's
    expect(page.locator(".messages")).to_contain_text("4")
    assert Customer.objects.filter(owner=receiver).count() == 5
    assert not Customer.objects.filter(owner=leaving).exists()
    expect(page.locator("#results tbody tr")).to_have_count(0)  # the segment is now empty
    _assert_no_one_else_touched(receiver)


def _assert_no_one_else_touched(receiver: User) -> None:
    untouched = Customer.objects.get(legal_name="Lead de Ramón")
    assert untouched.owner == receiver and untouched.version == 1
