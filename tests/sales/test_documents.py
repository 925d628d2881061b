"""Quotes, orders and invoices: lines, prices, totals, numbering, states, the active rule."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext
from pypdf import PdfReader

from cartera.accounts.models import Role
from cartera.activities.models import EntryKind, TimelineEntry
from cartera.activities.services import change_status
from cartera.core.models import Company, Sequence
from cartera.sales import services
from cartera.sales.models import DocumentState, PriceSource, SalesDocument
from cartera.sales.services import SalesInvalid
from tests.conftest import make_customer, make_user
from tests.sales.conftest import make_document

D = Decimal
pytestmark = pytest.mark.django_db


def test_a_quote_prices_its_product_lines_for_the_customer(owner, product, group) -> None:
    # given a customer of a group with a 10 % discount
    customer = make_customer(owner, group=group)

    # when a quote is made with a product line and a line written by hand
    quote = make_document(customer, owner, lines=[
        {"product": product.pk, "quantity": "3"},
        {"description": "Portes", "quantity": "1", "unit_price": "5.00", "tax_rate": "21"},
    ])  # fmt: skip

    # then the product line carries the list price, the group discount and the product's tax
    first, second = quote.lines.order_by("position")
    assert (first.description, first.unit_price, first.discount_percent, first.tax_rate) == (
        "Café en grano 1 kg",
        D("12.5"),
        D("10"),
        D("10"),
    )
    assert first.price_source == PriceSource.GROUP
    assert first.amount == D("33.75")
    assert second.price_source == PriceSource.MANUAL
    # and the totals add the rounded lines and the taxes per rate
    assert (quote.subtotal, quote.tax_total, quote.total) == (D("38.75"), D("4.43"), D("43.18"))
    assert quote.owner == owner
    assert quote.state == DocumentState.DRAFT


def test_quote_to_order_to_invoice_copies_lines_and_moves_states(owner, product) -> None:
    customer = make_customer(owner)
    quote = make_document(customer, owner, lines=[{"product": product.pk, "quantity": "2"}],
                          customer_reference="PO-7781")  # fmt: skip

    order = services.convert_document(document=quote, to_type="order", by=owner)
    invoice = services.convert_document(document=order, to_type="invoice", by=owner)

    quote.refresh_from_db()
    order.refresh_from_db()
    assert quote.state == DocumentState.ACCEPTED
    assert order.state == DocumentState.INVOICED
    assert invoice.source == order and order.source == quote
    assert invoice.customer_reference == "PO-7781"
    assert [
        (ln.description, ln.quantity, ln.unit_price, ln.amount) for ln in invoice.lines.all()
    ] == [("Café en grano 1 kg", D("2"), D("12.5"), D("25.00"))]
    assert invoice.total == quote.total == D("27.50")
    year = timezone.localdate().year
    assert [quote.code, order.code, invoice.code] == [
        f"P-{year}-00001",
        f"PED-{year}-00001",
        f"F-{year}-00001",
    ]


def test_a_document_is_turned_only_once(owner) -> None:
    quote = make_document(make_customer(owner), owner)
    services.convert_document(document=quote, to_type="order", by=owner)
    with pytest.raises(SalesInvalid) as error:
        services.convert_document(document=quote, to_type="order", by=owner)
    assert "state" in error.value.messages_by_field
    with pytest.raises(SalesInvalid):
        services.convert_document(document=quote, to_type="invoice", by=owner)
    assert SalesDocument.objects.count() == 2


def test_numbers_follow_each_series_and_year_without_gaps(owner) -> None:
    customer = make_customer(owner)
    codes = [make_document(customer, owner).code for _ in range(3)]
    old = make_document(customer, owner, issue_date=datetime.date(2024, 12, 31))
    invoice = make_document(customer, owner, "invoice")
    year = timezone.localdate().year
    assert codes == [f"P-{year}-0000{n}" for n in (1, 2, 3)]
    assert old.code == "P-2024-00001"
    assert invoice.code == f"F-{year}-00001"


def test_a_refused_document_takes_no_number(owner) -> None:
    customer = make_customer(owner)
    with pytest.raises(SalesInvalid) as error:
        make_document(customer, owner, lines=[{"description": "x", "quantity": "0",
                                               "unit_price": "1", "tax_rate": "21"}])  # fmt: skip
    assert error.value.messages_by_field == {
        "lines.0.quantity": [gettext("Enter a quantity greater than zero.")]
    }
    assert make_document(customer, owner).number == 1
    assert not Sequence.objects.filter(key__startswith="sales.invoice").exists()


def test_bad_lines_name_each_field(owner, product) -> None:
    product.is_active = False
    product.save()
    with pytest.raises(SalesInvalid) as error:
        make_document(make_customer(owner), owner, lines=[
            {"product": product.pk, "quantity": "1"},
            {"description": "", "quantity": "abc", "unit_price": "-1", "tax_rate": "150"},
            {"product": 999999, "quantity": "1"},
        ])  # fmt: skip
    assert set(error.value.messages_by_field) == {
        "lines.0.product", "lines.1.description", "lines.1.quantity", "lines.1.unit_price",
        "lines.1.tax_rate", "lines.2.product",
    }  # fmt: skip
    assert SalesDocument.objects.count() == 0


def test_no_lines_is_refused(owner) -> None:
    with pytest.raises(SalesInvalid) as error:
        services.create_document(customer=make_customer(owner), doc_type="quote", data={},
                                 lines=[], by=owner)  # fmt: skip
    assert list(error.value.messages_by_field) == ["lines"]


@pytest.mark.parametrize("status", ["inactive", "suspended"])
def test_only_active_customers_get_documents(owner, status) -> None:
    customer = make_customer(owner)
    change_status(customer=customer, to=status, by=owner, reason="Impago")
    with pytest.raises(SalesInvalid) as error:
        make_document(customer, owner)
    assert list(error.value.messages_by_field) == ["customer"]
    assert SalesDocument.objects.count() == 0


def test_the_company_may_allow_documents_for_inactive_customers(owner) -> None:
    customer = make_customer(owner)
    change_status(customer=customer, to="inactive", by=owner)
    company = Company.load()
    company.restrict_to_active = False
    company.save()
    assert make_document(customer, owner).pk


def test_states_follow_the_allowed_transitions(owner) -> None:
    quote = make_document(make_customer(owner), owner)
    services.change_state(document=quote, to="sent", by=owner)
    with pytest.raises(SalesInvalid):
        services.change_state(document=quote, to="paid", by=owner)
    services.change_state(document=quote, to="rejected", by=owner)
    quote.refresh_from_db()
    assert quote.state == "rejected"
    invoice = make_document(quote.customer, owner, "invoice")
    services.change_state(document=invoice, to="paid", by=owner)
    with pytest.raises(SalesInvalid):
        services.change_state(document=invoice, to="draft", by=owner)


def test_only_drafts_change(owner) -> None:
    quote = make_document(make_customer(owner), owner)
    services.update_document(document=quote, data={"notes": "Entrega en 48 h"},
                             lines=[{"description": "Otro", "quantity": "2", "unit_price": "3",
                                     "tax_rate": "21"}], by=owner)  # fmt: skip
    quote.refresh_from_db()
    assert (quote.notes, quote.total) == ("Entrega en 48 h", D("7.26"))
    services.change_state(document=quote, to="sent", by=owner)
    with pytest.raises(SalesInvalid):
        services.update_document(document=quote, data={"notes": "x"}, lines=None, by=owner)


def test_each_document_writes_a_timeline_entry(owner) -> None:
    customer = make_customer(owner)
    quote = make_document(customer, owner)
    entry = TimelineEntry.objects.filter(customer=customer, kind=EntryKind.SALE).get()
    assert entry.data["code"] == quote.code
    assert entry.data["type"] == "quote"
    assert entry.data["total"] == "121.00"
    assert quote.code in entry.data["text"]


def test_documents_go_to_the_customer_owner_unless_told(owner, teammate) -> None:
    customer = make_customer(owner)
    assert make_document(customer, teammate).owner == owner
    assert make_document(customer, teammate, owner=teammate).owner == teammate


def test_readers_and_other_teams_cannot_make_documents(owner, outsider, team_visibility) -> None:
    customer = make_customer(owner)
    reader = make_user("rosa", role=Role.READ_ONLY, team=owner.team)
    for user in (reader, outsider):
        with pytest.raises(PermissionDenied):
            make_document(customer, user)
    assert SalesDocument.objects.count() == 0


def test_the_pdf_holds_both_parties_fiscal_data(owner, company, product) -> None:
    customer = make_customer(owner)
    document = make_document(customer, owner, "invoice",
                             lines=[{"product": product.pk, "quantity": "2"}],
                             customer_reference="PED-CLIENTE-42")  # fmt: skip

    from cartera.sales.pdf import render_pdf

    data = render_pdf(document, list(document.lines.all()))

    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for expected in (
        "Distribuciones Ibéricas SL", "B12345674", "Gran Vía 1",
        "Muñoz y Asociados SL", "B-12345674" if "B-12345674" in text else "B12345674",
        "Calle Mayor 28", "Madrid", document.code, "PED-CLIENTE-42", "Café en grano 1 kg",
        "27,50", "Factura",
    ):  # fmt: skip
        assert expected in text, expected
