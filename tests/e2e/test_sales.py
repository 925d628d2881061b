"""Sales in the browser: a quote becomes an order and an invoice; the board without a mouse."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import Role
from cartera.customers.models import CustomerGroup
from cartera.sales.models import Opportunity, PipelineStage, Product, SalesDocument
from cartera.sales.opportunities import create_opportunity
from tests.conftest import make_customer, make_user
from tests.e2e.conftest import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_quote_becomes_an_order_and_an_invoice(page: Page, live_server: Any) -> None:
    # given a salesperson, a customer of a group with a discount, and a product
    user = make_user("olga")
    group = CustomerGroup.objects.create(name="Mayoristas", discount_percent=Decimal("10"))
    customer = make_customer(user, group=group)
    product = Product.objects.create(code="CAF-1", name="Café en grano 1 kg",
                                     price=Decimal("12.50"), tax_rate=Decimal("10"))  # fmt: skip
    login(page, live_server, user)

    # when they start a quote from the ficha's Sales panel and add two lines
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.locator("#sales #new-quote").click()
    expect(page).to_have_url(re.compile(r"/sales/documents/new/\?type=quote&customer=\d+$"))
    rows = page.locator("tr.line")
    rows.nth(0).locator("select").select_option(str(product.pk))
    rows.nth(0).locator("input[name$=quantity]").fill("4")
    rows.nth(1).locator("input[name$=description]").fill("Portes")
    rows.nth(1).locator("input[name$=quantity]").fill("1")
    rows.nth(1).locator("input[name$=unit_price]").fill("8,00")
    rows.nth(1).locator("input[name$=tax_rate]").fill("21")
    page.locator("input[name=customer_reference]").fill("PO-2026-118")
    shot(page, "sales-quote-form")
    page.locator("#document-form button[type=submit]").click()

    # then the quote shows the group's discount and the totals by tax rate
    quote = SalesDocument.objects.get(type="quote")
    expect(page.locator("h1")).to_contain_text(quote.code)
    expect(page.locator("#lines .price-source").first).to_contain_text(
        re.compile("Group discount|Descuento del grupo")
    )
    expect(page.locator("#grand-total")).to_contain_text("59,18")  # 45 + 4.50 + 8 + 1.68
    shot(page, "sales-quote")

    # when they make the order and then the invoice
    page.locator("#convert").click()
    expect(page.locator("h1")).to_contain_text("PED-")
    page.locator("#convert").click()
    expect(page.locator("h1")).to_contain_text("F-")
    shot(page, "sales-invoice")

    # then the three documents are linked, with the customer's reference, and the PDF opens
    invoice = SalesDocument.objects.get(type="invoice")
    assert invoice.source.source == quote
    assert invoice.customer_reference == "PO-2026-118"
    assert invoice.total == Decimal("59.18")
    response = page.request.get(f"{live_server.url}/sales/documents/{invoice.pk}/pdf/")
    assert response.headers["content-type"] == "application/pdf"

    # and the ficha's panel counts the purchase
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.locator("#sales #history-total")).to_contain_text("59,18")
    page.locator("#sales").scroll_into_view_if_needed()
    shot(page, "sales-ficha-panel")


def test_the_board_works_from_the_keyboard(page: Page, live_server: Any) -> None:
    # given two stages and an opportunity in the first
    user = make_user("olga")
    manager = make_user("marta", role=Role.MANAGER)
    first = PipelineStage.objects.create(name="Cualificación", position=10, probability=10)
    second = PipelineStage.objects.create(name="Propuesta", position=20, probability=60)
    data = {"title": "Renovación anual", "amount": Decimal("12000"), "stage": first}
    opportunity = create_opportunity(customer=make_customer(user), data=data, by=user)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/sales/pipeline/")
    expect(page.locator("#weighted")).to_contain_text(re.compile(r"1\W?200,00"))
    shot(page, "sales-board")

    # when they choose the next stage under the card with the keyboard and press Move
    select = page.locator(f"#move-{opportunity.pk}")
    select.focus()
    select.select_option(str(second.pk))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    # then the card is in the second column and the weighted value follows its probability
    column = page.locator(f".board-column[data-stage='{second.pk}']")
    expect(column.locator(f"#opportunity-{opportunity.pk}")).to_be_visible()
    expect(page.locator("#weighted")).to_contain_text(re.compile(r"7\W?200,00"))
    assert Opportunity.objects.get().stage == second
    shot(page, "sales-board-moved")
    assert manager.pk
