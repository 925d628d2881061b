"""Exports of values that used to break them: the computed purchase activity, filters the list
refuses, numbers too large for a spreadsheet, phone numbers and text longer than a cell."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.core.spreadsheets import neutralise
from cartera.customers.models import Customer, CustomField, PurchaseActivity
from cartera.transfer import export
from tests.conftest import client_for
from tests.transfer.test_export import _body, _customer, _download, _english, _rows

pytestmark = pytest.mark.django_db


def _sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response))).active
    return list(sheet.iter_rows(values_only=True))


# --- Purchase activity ----------------------------------------------------------------------


def _buyer_and_never(owner: User) -> tuple[Customer, Customer]:
    buyer = _customer(owner, "Compra Mucho SL")
    PurchaseActivity.objects.create(customer=buyer, activity="active")
    return buyer, _customer(owner, "Nunca Compra SL")


def test_purchase_activity_is_exported_by_its_label_in_csv(owner: User) -> None:
    # given a customer who buys and one who never bought, and a Spanish-speaking user
    _buyer_and_never(owner)

    # when the list is exported with the purchase activity
    response = _download(client_for(owner), "", columns=["legal_name", "activity"])

    # then the column has its Spanish header and the labels the ficha shows
    rows = _rows(response)
    assert rows[0] == ["Nombre fiscal", "Situación de compra"]
    assert rows[1:] == [["Compra Mucho SL", "Comprando"], ["Nunca Compra SL", "Nunca ha comprado"]]


def test_purchase_activity_is_exported_by_its_label_in_xlsx(owner: User) -> None:
    _english(owner)
    _buyer_and_never(owner)
    response = _download(client_for(owner), "", format="xlsx", columns=["legal_name", "activity"])
    assert _sheet_rows(response) == [
        ("Legal name", "Purchase activity"),
        ("Compra Mucho SL", "Buying"),
        ("Nunca Compra SL", "Never bought"),
    ]


def test_purchase_activity_through_the_api(owner: User) -> None:
    _buyer_and_never(owner)
    client = client_for(owner)
    url = "/api/customers/export?columns=legal_name,activity&lang=en"
    assert _rows(client.get(url + "&format=csv"))[1:] == [
        ["Compra Mucho SL", "Buying"],
        ["Nunca Compra SL", "Never bought"],
    ]
    assert _sheet_rows(client.get(url + "&format=xlsx"))[1] == ("Compra Mucho SL", "Buying")


def test_purchase_activity_costs_no_query_per_row(owner: User) -> None:
    # given two customers, then seven, some who bought and some who never did
    _buyer_and_never(owner)
    two = _count_queries(export.start_export(user=owner, format="csv", columns=["activity"]))
    for i in range(5):
        other = _customer(owner, f"Otro {i}")
        if i % 2:
            PurchaseActivity.objects.create(customer=other, activity="inactive")

    # when they are exported, then reading five more costs no query more
    seven = _count_queries(export.start_export(user=owner, format="csv", columns=["activity"]))
    assert seven == two


def _count_queries(item: export.Export) -> int:
    with CaptureQueriesContext(connection) as ctx:
        b"".join(export.csv_chunks(item))
    return len(ctx.captured_queries)


# --- Filters the list refuses ---------------------------------------------------------------


_NOT_A_CHOICE = "Elige una opción válida: esa no está entre las disponibles."


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            "stage=bogus",
            "Etapa: Elige una opción válida: bogus no está entre las disponibles.",
        ),
        ("owner=abc", f"Responsable: {_NOT_A_CHOICE}"),
        ("owner=99999", f"Responsable: {_NOT_A_CHOICE}"),
        ("group=99999", f"Grupo: {_NOT_A_CHOICE}"),
        (
            "q=" + "x" * 300,
            "Buscar: Escribe como máximo 200 caracteres (este texto tiene 300).",
        ),
    ],
)
def test_the_export_page_names_a_refused_filter_by_its_label(
    owner: User, query: str, error: str
) -> None:
    # given a Spanish-speaking user and a list query with a filter the list refuses
    _customer(owner, "Filtrado SL")
    client = client_for(owner)

    # when the export page is opened with it, and the export is downloaded with it
    page = client.get(f"/export/?{query}")
    download = _download(client, query)

    # then both show the page with the filter's label and the reason, in Spanish, once
    for response in (page, download):
        assert response.status_code == 422
        assert response.context["filter_errors"] == [error]
        html = response.content.decode()
        assert 'id="export-filter-errors"' in html
        assert html.count(error.split(": ", 1)[1].split(".")[0]) == 1


def test_an_english_user_reads_the_refused_filter_in_english(owner: User) -> None:
    _english(owner)
    response = client_for(owner).get("/export/?stage=bogus")
    assert response.status_code == 422
    assert response.context["filter_errors"] == [
        "Stage: Select a valid choice. bogus is not one of the available choices."
    ]


def test_a_refused_filter_is_reported_once_beside_a_refused_column(owner: User) -> None:
    _english(owner)
    client = client_for(owner)
    stage = "Stage: Select a valid choice. bogus is not one of the available choices."
    response = _download(client, "stage=bogus", columns=["code", "secret"])
    assert response.status_code == 422
    assert response.context["filter_errors"] == [stage]
    assert "secret" in response.context["form"].errors["columns"][0]
    response = _download(client, "stage=bogus")
    assert response.context["filter_errors"] == [stage]
    assert not response.context["form"].non_field_errors()


def test_valid_filters_still_show_the_count(owner: User) -> None:
    _english(owner)
    _customer(owner, "Contado SL")
    response = client_for(owner).get("/export/?stage=client")
    assert response.status_code == 200
    assert response.context["filter_errors"] == []
    assert "1 customer will be exported." in response.content.decode()


# --- Numbers too large for a spreadsheet ----------------------------------------------------


def _with_amount(owner: User, value: str) -> Customer:
    CustomField.objects.get_or_create(
        key="amount", defaults={"label": "Amount", "field_type": "number"}
    )
    customer = _customer(owner, f"Importe {value[:12]}")
    # saved before validation capped numbers, or by an older version
    Customer.objects.filter(pk=customer.pk).update(custom_data={"amount": value})
    return customer


@pytest.mark.parametrize("value", ["1E+400", "-1E+400", "1E-400", "NaN", "Infinity"])
def test_xlsx_writes_a_number_excel_cannot_hold_as_text(owner: User, value: str) -> None:
    _english(owner)
    _with_amount(owner, value)
    response = _download(client_for(owner), "", format="xlsx", columns=["cf_amount"])
    assert _sheet_rows(response)[1] == (value,)


def test_xlsx_keeps_ordinary_numbers_as_numbers(owner: User) -> None:
    _english(owner)
    _with_amount(owner, "1234.5")
    response = _download(client_for(owner), "", format="xlsx", columns=["cf_amount"])
    assert _sheet_rows(response)[1] == (1234.5,)


def test_csv_never_expands_a_huge_exponent(owner: User) -> None:
    # given a number with five million zeros
    _english(owner)
    _with_amount(owner, "1.5E+5000000")

    # when it is exported, in English and in Spanish
    english = _download(client_for(owner), "", columns=["code", "cf_amount"])
    owner.language = "es"
    owner.save(update_fields=["language"])
    spanish = _download(client_for(owner), "", columns=["code", "cf_amount"])

    # then the cell is the number as written, not millions of digits
    assert _rows(english)[1][1] == "1.5E+5000000"
    assert _rows(spanish)[1][1] == "1,5E+5000000"


@pytest.mark.parametrize(
    ("value", "english", "spanish"),
    [
        ("1234.50", "1234.50", "1234,50"),
        ("1E+2", "100", "100"),
        ("1E-7", "0.0000001", "0,0000001"),
        ("-2.5E+20", "-250000000000000000000", "-250000000000000000000"),
    ],
)
def test_csv_writes_ordinary_numbers_in_full(
    owner: User, value: str, english: str, spanish: str
) -> None:
    _with_amount(owner, value)
    columns = ["code", "cf_amount"]
    assert _rows(_download(client_for(owner), "", columns=columns))[1][1] == spanish
    _english(owner)
    assert _rows(_download(client_for(owner), "", columns=columns))[1][1] == english


# --- Phone numbers and formulas -------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+51 73 808556", "+34 (91) 555-12.34", "+1 212 555 0100"])
def test_a_phone_number_is_not_prefixed_in_csv(owner: User, phone: str) -> None:
    _english(owner)
    _customer(owner, "Con Teléfono", notes=phone)
    rows = _rows(_download(client_for(owner), "", columns=["legal_name", "notes"]))
    assert rows[1] == ["Con Teléfono", phone]


@pytest.mark.parametrize(
    "text",
    [
        '+51 73 808556+HYPERLINK("http://evil.example")',
        "+SUM(A1:A9)",
        "+1-2*3",
        "+",
        "=1+1",
        "-51 73",
        "@SUM(A1)",
        "\t+51 73",
        "\r+51 73",
        "+51 73\n=cmd",
    ],
)
def test_everything_else_that_starts_like_a_formula_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_the_exported_phone_column_is_not_prefixed(owner: User) -> None:
    # given a Peruvian phone, shown in international format to a Spanish company
    _english(owner)
    _customer(owner, "Lima SAC", channels=[{"type": "phone", "value": "+51 73 808556"}])
    rows = _rows(_download(client_for(owner), "", columns=["legal_name", "phone"]))
    assert rows[1] == ["Lima SAC", "+51 73 808556"]


# --- Text longer than an Excel cell ---------------------------------------------------------


def test_xlsx_ends_text_cut_at_excels_limit_with_an_ellipsis(owner: User) -> None:
    # given notes longer than an Excel cell holds, and notes exactly as long as it holds
    _english(owner)
    long = _customer(owner, "A Largo")
    exact = _customer(owner, "B Justo")
    Customer.objects.filter(pk=long.pk).update(notes="a" * 40_000)
    Customer.objects.filter(pk=exact.pk).update(notes="b" * 32_767)

    # when they are exported as XLSX
    response = _download(client_for(owner), "", format="xlsx", columns=["notes"])

    # then the long one is cut to the limit and ends with an ellipsis; the other is whole
    rows = _sheet_rows(response)
    assert rows[1][0] == "a" * 32_766 + "…"
    assert rows[2][0] == "b" * 32_767


def test_xlsx_cuts_by_what_excel_counts_never_inside_a_character(owner: User) -> None:
    # Excel counts UTF-16 units: an emoji is two of them
    _english(owner)
    customer = _customer(owner, "Emoji")
    Customer.objects.filter(pk=customer.pk).update(notes="😀" * 20_000)
    response = _download(client_for(owner), "", format="xlsx", columns=["notes"])
    cell = _sheet_rows(response)[1][0]
    assert cell == "😀" * 16_383 + "…"
    assert len(cell.encode("utf-16-le")) // 2 <= 32_767
