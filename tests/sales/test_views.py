"""Sales pages: create a quote in the browser's terms, lists with fixed query counts, access."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from cartera.sales.models import Opportunity, Product, SalesDocument
from tests.conftest import client_for, make_customer, valid_cif
from tests.sales.conftest import make_document, make_invoice, make_product

pytestmark = pytest.mark.django_db


def _line_form(rows: list[dict[str, str]], **fields: str) -> dict[str, str]:
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0", **fields}
    for i, row in enumerate(rows):
        data.update({f"lines-{i}-{k}": v for k, v in row.items()})
    return data


def test_a_quote_is_made_from_the_form(owner, product, group) -> None:
    customer = make_customer(owner, group=group)
    client = client_for(owner)
    url = f"/sales/documents/new/?type=quote&customer={customer.pk}"
    assert client.get(url).status_code == 200
    data = _line_form(
        [{"product": str(product.pk), "quantity": "2"}, {}],
        issue_date="2026-05-04", owner=str(owner.pk), customer_reference="PO-1",
    )  # fmt: skip
    response = client.post(url, data)
    document = SalesDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sales/documents/{document.pk}/"
    assert (document.code, document.total) == ("P-2026-00001", Decimal("24.75"))
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert gettext("Group discount") in page.content.decode()


def test_a_bad_line_is_shown_on_its_field_and_nothing_is_saved(owner) -> None:
    customer = make_customer(owner)
    client = client_for(owner)
    data = _line_form([{"description": "Algo", "quantity": "1"}], issue_date="2026-05-04",
                      owner=str(owner.pk))  # fmt: skip
    with translation.override("en"):
        response = client.post(f"/sales/documents/new/?type=quote&customer={customer.pk}", data)
    assert response.status_code == 422
    assert SalesDocument.objects.count() == 0


def test_other_teams_cannot_open_a_document_by_id(owner, outsider, team_visibility) -> None:
    document = make_document(make_customer(owner), owner)
    client = client_for(outsider)
    pk = document.pk
    urls = (f"/sales/documents/{pk}/", f"/sales/documents/{pk}/pdf/",
            f"/sales/documents/{pk}/edit/", f"/api/sales/documents/{pk}")  # fmt: skip
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.get("/api/sales/documents").json()["count"] == 0


def test_the_pdf_is_served_inline(owner) -> None:
    document = make_document(make_customer(owner), owner)
    response = client_for(owner).get(f"/sales/documents/{document.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert document.code in response["Content-Disposition"]


def test_the_document_list_has_a_fixed_query_count(owner) -> None:
    client = client_for(owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/sales/documents/").status_code == 200
        return len(queries)

    customer = make_customer(owner)
    make_document(customer, owner)
    few = count()
    for n in range(2, 8):
        make_document(make_customer(owner, legal_name=f"C{n}", tax_id=valid_cif(n)), owner)
    assert count() == few


def test_the_product_list_has_a_fixed_query_count(owner, manager) -> None:
    client = client_for(manager)
    make_product("A")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/sales/products/").status_code == 200
        return len(queries)

    few = count()
    for n in range(10):
        make_product(f"B{n}")
    assert count() == few


def test_the_board_and_list_have_fixed_query_counts(owner, stages) -> None:
    from cartera.sales.opportunities import create_opportunity

    client = client_for(owner)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    customer = make_customer(owner)
    create_opportunity(customer=customer, data={"title": "A", "amount": Decimal(1),
                                                "stage": stages[0]}, by=owner)  # fmt: skip
    few = (count("/sales/pipeline/"), count("/sales/opportunities/"))
    for n in range(8):
        create_opportunity(customer=customer, data={"title": f"O{n}", "amount": Decimal(n),
                                                    "stage": stages[n % 2]}, by=owner)  # fmt: skip
    assert (count("/sales/pipeline/"), count("/sales/opportunities/")) == few


def test_the_ficha_panel_has_a_fixed_query_count(owner, product) -> None:
    customer = make_customer(owner)
    client = client_for(owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/customers/{customer.pk}/").status_code == 200
        return len(queries)

    make_invoice(customer, owner, datetime.date.today())
    few = count()
    for n in range(6):
        make_document(customer, owner, "invoice", lines=[
            {"product": product.pk, "quantity": str(n + 1)},
            {"description": f"Extra {n}", "quantity": "1", "unit_price": "3", "tax_rate": "4"},
        ], issue_date=datetime.date.today() - datetime.timedelta(days=40 * n))  # fmt: skip
        make_document(customer, owner, "quote")
    assert count() == few


def test_the_panel_shows_the_history(owner) -> None:
    customer = make_customer(owner)
    make_invoice(customer, owner, datetime.date.today(), amount="1000")
    with translation.override("en"):
        page = client_for(owner).get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="sales"' in page
    assert "<svg" in page and "<rect" in page
    assert "210,00 EUR" in page or "210.00 EUR" in page


def test_managers_keep_the_catalogue(owner, manager, group) -> None:
    assert client_for(owner).get("/sales/products/new/").status_code == 403
    client = client_for(manager)
    response = client.post("/sales/products/new/", {
        "code": "TE-1", "name": "Té verde", "kind": "product", "unit": "kg", "price": "20,50",
        "tax_rate": "10", "is_active": "on", f"group_{group.pk}": "18",
    })  # fmt: skip
    assert response.status_code == 302
    product = Product.objects.get(code="TE-1")
    assert product.price == Decimal("20.5")
    assert product.group_prices.get().price == Decimal("18")


def test_the_keyboard_path_moves_a_card(owner, outsider, team_visibility, stages) -> None:
    from cartera.sales.opportunities import create_opportunity

    opportunity = create_opportunity(customer=make_customer(owner), data={
        "title": "A", "amount": Decimal(10), "stage": stages[0]}, by=owner)  # fmt: skip
    url = f"/sales/opportunities/{opportunity.pk}/move/"
    assert client_for(outsider).post(url, {"stage": stages[1].pk}).status_code == 404
    response = client_for(owner).post(url, {"stage": stages[1].pk})
    assert response.status_code == 302
    assert Opportunity.objects.get().stage == stages[1]
    json_move = client_for(owner).post(url, {"stage": stages[0].pk}, HTTP_ACCEPT="application/json")
    assert json_move.json() == {"id": opportunity.pk, "stage": stages[0].pk}
