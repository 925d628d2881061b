"""Exports of the customer list and of segments: CSV, XLSX and vCard, through the pages and
the API; what they hold is exactly what the list shows the user who exports."""

from __future__ import annotations

import csv
import datetime
import io
import typing
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from cartera.accounts.models import User
from cartera.audit.models import Action, AuditEvent
from cartera.customers import segments
from cartera.customers.api import ListParams
from cartera.customers.filters import CustomerFilter
from cartera.customers.models import Customer, CustomField
from cartera.transfer import export
from cartera.transfer.api_export import FilterParams
from tests.conftest import bearer, client_for, make_customer, make_lead, valid_cif

pytestmark = pytest.mark.django_db

_NUMBERS = iter(range(1, 9_000_000, 7919))


def _customer(owner: User, name: str, **overrides: Any) -> Customer:
    return make_customer(owner, legal_name=name, tax_id=valid_cif(next(_NUMBERS)), **overrides)


def _body(response: Any) -> bytes:
    if isinstance(response, StreamingHttpResponse | FileResponse):
        return b"".join(response.streaming_content)
    return response.content


def _rows(response: Any) -> list[list[str]]:
    text = _body(response).decode("utf-8-sig")
    delimiter = ";" if text.split("\r\n", 1)[0].count(";") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _english(user: User) -> User:
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def _download(client: Any, query: str, **params: Any) -> Any:
    data: dict[str, Any] = {"format": "csv", "columns": ["code"], "query": query} | params
    return client.get("/export/download/", data)


# --- Which customers ---------------------------------------------------------------------------


def test_the_export_holds_exactly_the_customers_the_list_shows(
    owner: User, teammate: User, outsider: User, team_visibility: Any
) -> None:
    # given clients and leads of the owner's team, and a client of another team
    for i in range(3):
        _customer(owner, f"Norte Cliente {i}")
    _customer(teammate, "Compañero Cliente")
    make_lead(owner, "Norte Lead")
    _customer(outsider, "Sur Cliente")
    client = client_for(owner)
    query = "stage=client&sort=-name"

    # when the owner looks at the filtered list, and exports it
    listed = [c.code for c in client.get(f"/customers/?{query}").context["page"].object_list]
    rows = _rows(_download(client, query))

    # then the export holds the same customers, in the same order, and nobody else's
    assert [r[0] for r in rows[1:]] == listed
    assert len(listed) == 4
    assert Customer.objects.get(legal_name="Sur Cliente").code not in listed


def test_a_search_exports_what_the_search_finds(owner: User) -> None:
    _customer(owner, "Ferretería Alonso")
    _customer(owner, "Panadería Gómez")
    client = client_for(owner)
    listed = [c.code for c in client.get("/customers/?q=alonso").context["page"].object_list]
    rows = _rows(_download(client, "q=alonso"))
    assert [r[0] for r in rows[1:]] == listed
    assert len(listed) == 1


def test_a_shared_segment_exports_only_what_the_reader_may_see(
    owner: User, outsider: User, team_visibility: Any
) -> None:
    # given a shared segment of clients, and clients of both teams
    _customer(owner, "Norte Uno")
    mine = _customer(outsider, "Sur Uno")
    make_lead(outsider, "Sur Lead")
    segment = segments.create_segment(name="Clientes", query="stage=client", shared=True, by=owner)

    # when the other team's salesperson exports it
    response = client_for(outsider).get(
        f"/export/segments/{segment.pk}/download/", {"format": "csv", "columns": ["code"]}
    )

    # then only their own client is in it
    assert [r[0] for r in _rows(response)[1:]] == [mine.code]


def test_another_persons_private_segment_is_not_found(owner: User, outsider: User) -> None:
    segment = segments.create_segment(name="Mío", query="stage=client", by=owner)
    client = client_for(outsider)
    assert client.get(f"/export/segments/{segment.pk}/").status_code == 404
    download = f"/export/segments/{segment.pk}/download/?format=csv&columns=code"
    assert client.get(download).status_code == 404
    assert client.get(f"/api/segments/{segment.pk}/export").status_code == 404


# --- Columns and formats -----------------------------------------------------------------------


def test_the_chosen_columns_in_the_chosen_order(owner: User) -> None:
    _english(owner)
    _customer(owner, "Columnas SL", trade_name="Columnas")
    response = _download(client_for(owner), "", columns=["trade_name", "code", "legal_name"])
    rows = _rows(response)
    assert rows[0] == ["Trade name", "Code", "Legal name"]
    assert rows[1][0] == "Columnas" and rows[1][2] == "Columnas SL"


def test_no_column_or_an_unknown_one_is_refused_on_its_field(owner: User) -> None:
    client = client_for(owner)
    _english(owner)
    response = _download(client, "", columns=[])
    assert response.status_code == 422
    assert "Choose at least one column." in response.content.decode()
    assert _download(client, "", columns=["code", "password"]).status_code == 422
    assert _download(client, "", format="pdf").status_code == 422
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_an_invalid_filter_is_refused_not_ignored(owner: User) -> None:
    _english(owner)
    response = _download(client_for(owner), "stage=nonsense")
    assert response.status_code == 422
    assert "stage" in response.content.decode()


def _rich(owner: User) -> Customer:
    customer = _customer(
        owner,
        "Formatos SA",
        annual_revenue=Decimal("1234.50"),
        payment_terms_days=30,
        follow_up=True,
    )
    # the services set "client since" to the day the customer became one
    Customer.objects.filter(pk=customer.pk).update(client_since=datetime.date(2024, 3, 7))
    return customer


def test_spanish_csv_has_spanish_headers_dates_and_decimal_comma(owner: User) -> None:
    # given a Spanish-speaking user (the default) and a customer with dates and amounts
    customer = _rich(owner)
    columns = ["code", "stage", "client_since", "annual_revenue", "payment_terms_days", "follow_up"]

    # when they export it
    response = _download(client_for(owner), "", columns=columns)
    body = _body(response)

    # then: UTF-8 with a BOM, ';' between fields, dd/mm/aaaa and a decimal comma
    assert body.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Código", "Etapa"]
    assert rows[1][0] == customer.code
    assert rows[1][2:5] == ["07/03/2024", "1234,50", "30"]


def test_english_csv_has_english_headers_iso_dates_and_decimal_point(owner: User) -> None:
    _english(owner)
    _rich(owner)
    columns = ["code", "stage", "client_since", "annual_revenue", "follow_up"]
    body = _body(_download(client_for(owner), "", columns=columns)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Code", "Stage", "Client since", "Estimated annual revenue", "Follow-up"]
    assert rows[1][1:] == ["Client", "2024-03-07", "1234.50", "Yes"]


def test_custom_fields_are_columns(owner: User, admin_user: User) -> None:
    _english(owner)
    CustomField.objects.create(label="Visit day", key="visit", field_type="date")
    _customer(owner, "Con Campo", custom_data={"visit": "2025-12-31"})
    rows = _rows(_download(client_for(owner), "", columns=["legal_name", "cf_visit"]))
    assert rows[0] == ["Legal name", "Visit day"]
    assert rows[1] == ["Con Campo", "2025-12-31"]


DANGEROUS = '=HYPERLINK("http://evil.example","Pulse aquí")'


def test_formulas_are_neutralised_in_csv(owner: User) -> None:
    # given a customer named like a formula, with a French phone (international format here)
    _english(owner)
    channels = [{"type": "phone", "value": "+33 1 42 68 53 00"}]
    _customer(owner, DANGEROUS, channels=channels, trade_name="-1+1", notes="@SUM(A1)")
    columns = ["legal_name", "phone", "trade_name", "notes"]

    # when it is exported as CSV
    rows = _rows(_download(client_for(owner), "", columns=columns))

    # then every such cell starts with an apostrophe, so no spreadsheet runs it; the phone,
    # which cannot run anything, is left as it is
    assert rows[1] == ["'" + DANGEROUS, "+33 1 42 68 53 00", "'-1+1", "'@SUM(A1)"]


def test_xlsx_reads_back_with_text_that_stays_text(owner: User) -> None:
    # given a customer named like a formula, with dates and amounts
    _english(owner)
    channels = [{"type": "phone", "value": "+33 1 42 68 53 00"}]
    customer = _rich(owner)
    _customer(owner, DANGEROUS, channels=channels)
    columns = ["code", "legal_name", "phone", "client_since", "annual_revenue", "follow_up"]

    # when the list is exported as XLSX
    response = _download(client_for(owner), "sort=-name", format="xlsx", columns=columns)
    assert isinstance(response, FileResponse)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    body = _body(response)

    # then openpyxl reads strings, not formulas, and real dates and numbers
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Code", "Legal name", "Main phone", "Client since",
                       "Estimated annual revenue", "Follow-up")  # fmt: skip
    assert rows[1][1] == "Formatos SA"
    assert rows[1][0] == customer.code
    assert rows[1][3] == datetime.datetime(2024, 3, 7)
    assert rows[1][4] == 1234.5 and rows[1][5] == "Yes"
    assert rows[2][1] == DANGEROUS and sheet.cell(3, 2).data_type == "s"
    assert rows[2][2] == "+33 1 42 68 53 00" and sheet.cell(3, 3).data_type == "s"
    # and python-calamine agrees
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(body))
    read = calamine.get_sheet_by_index(0).to_python()
    assert read[2][1] == DANGEROUS


def test_xlsx_of_a_spanish_user_has_spanish_headers_and_date_format(owner: User) -> None:
    _rich(owner)
    response = _download(client_for(owner), "", format="xlsx", columns=["code", "client_since"])
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response))).active
    assert sheet.cell(1, 1).value == "Código"
    assert sheet.cell(2, 2).number_format == "dd/mm/yyyy"


# --- vCard --------------------------------------------------------------------------------------


def parse_vcards(data: bytes) -> list[dict[str, list[tuple[str, str]]]]:
    """A small vCard 3.0 reader: unfold, split name;params:value, unescape text."""
    text = data.decode("utf-8")
    assert "\n" not in text.replace("\r\n", "")  # CRLF line ends only
    physical = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical), "a line is not folded"
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        elif line:
            logical.append(line)
    cards: list[dict[str, list[tuple[str, str]]]] = []
    for line in logical:
        head, value = line.split(":", 1)
        name, _, params = head.partition(";")
        if name == "BEGIN":
            cards.append({})
            continue
        cards[-1].setdefault(name, []).append((params, value))
    return cards


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


LONG_NOTE = (
    "Llamar por la tarde; prefiere WhatsApp, nunca antes de las 16:00. "
    "Habla de su viaje a Cádiz, Málaga y Córdoba\nSegunda línea con ñandú y acentos: áéíóú."
)
CONTACTS = [
    {
        "first_name": "José Ángel",
        "last_name": "Muñoz, Peña",
        "role": "Director; compras",
        "email": "jose@munoz.example",
        "phone": "+34 915 55 12 34",
        "mobile": "+34 600 11 22 33",
        "birthday": datetime.date(1980, 5, 17),
        "notes": LONG_NOTE,
        "is_primary": True,
    },
    {"first_name": "Lucía", "last_name": "Ortiz", "email": "lucia@munoz.example"},
]


def test_vcard_of_the_ficha_escapes_folds_and_types_phones(owner: User, outsider: User) -> None:
    # given a customer with two contacts, one with accents, commas, semicolons and a long note
    customer = _customer(owner, "Muñoz y Asociados SL", contacts=CONTACTS)

    # when its contacts are downloaded from the ficha
    response = client_for(owner).get(f"/export/customers/{customer.pk}/contacts.vcf")

    # then two vCards come back, which read back to the same data
    assert response["Content-Type"].startswith("text/vcard")
    cards = parse_vcards(response.content)
    assert len(cards) == 2
    jose = cards[0]
    assert jose["VERSION"] == [("", "3.0")]
    assert jose["N"][0][1].startswith("Muñoz\\, Peña;José Ángel;")
    assert unescape(jose["FN"][0][1]) == "José Ángel Muñoz, Peña"
    assert unescape(jose["ORG"][0][1]) == "Muñoz y Asociados SL"
    assert unescape(jose["TITLE"][0][1]) == "Director; compras"
    assert jose["TEL"] == [("TYPE=WORK,VOICE", "+34915551234"), ("TYPE=CELL,VOICE", "+34600112233")]
    assert jose["EMAIL"] == [("TYPE=INTERNET", "jose@munoz.example")]
    assert jose["BDAY"] == [("", "1980-05-17")]
    assert unescape(jose["NOTE"][0][1]) == LONG_NOTE
    assert unescape(cards[1]["FN"][0][1]) == "Lucía Ortiz"
    # and the download is in the audit, while another team's salesperson finds nothing
    assert AuditEvent.objects.filter(action=Action.EXPORT, customer_id=customer.pk).count() == 1


def test_vcard_of_another_teams_customer_is_not_found(
    owner: User, outsider: User, team_visibility: Any
) -> None:
    customer = _customer(owner, "Oculto SL", contacts=CONTACTS)
    response = client_for(outsider).get(f"/export/customers/{customer.pk}/contacts.vcf")
    assert response.status_code == 404


def test_vcards_of_the_listed_customers(owner: User, outsider: User, team_visibility: Any) -> None:
    _customer(owner, "Con Contactos", contacts=CONTACTS)
    _customer(owner, "Sin Contactos")
    _customer(outsider, "Ajeno", contacts=[{"first_name": "Ajeno", "email": "a@b.example"}])
    response = _download(client_for(owner), "", format="vcf", columns=[])
    assert isinstance(response, StreamingHttpResponse)
    cards = parse_vcards(_body(response))
    assert [unescape(c["FN"][0][1]) for c in cards] == ["José Ángel Muñoz, Peña", "Lucía Ortiz"]


def test_folding_never_splits_a_character() -> None:
    line = "NOTE:" + "ñ" * 100
    folded = export.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "").rstrip("\r\n") == line


# --- Streaming, queries and the audit ----------------------------------------------------------


def test_csv_is_streamed_and_the_audit_gets_one_event(owner: User) -> None:
    for i in range(3):
        _customer(owner, f"Auditado {i}")
    response = _download(client_for(owner), "stage=client")
    assert isinstance(response, StreamingHttpResponse)
    assert len(_rows(response)) == 4
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.actor == owner and event.object_type == "customer_list"
    assert event.changes["rows"] == [None, 3]
    assert event.changes["filters"] == [None, "stage=client"]
    assert event.changes["format"] == [None, "csv"]
    assert event.customer_id is None  # one event for the list, none per customer


def _export_queries(user: User, *, chunk_size: int, columns: list[str]) -> int:
    item = export.start_export(user=user, format="csv", columns=columns)
    with CaptureQueriesContext(connection) as ctx:
        rows = b"".join(export.csv_chunks(item, chunk_size=chunk_size))
    assert rows.count(b"\r\n") == item.count + 1
    return len(ctx.captured_queries)


def test_each_chunk_costs_a_fixed_number_of_queries(owner: User) -> None:
    # given columns that need tags, channels and addresses: per chunk, the customers (owner,
    # group and fiscal type joined) and three prefetches
    columns = ["code", "owner", "group", "tags", "phone", "email", "municipality", "fiscal_type"]
    for i in range(4):
        _customer(owner, f"Cliente {i}", tags=["vip"])

    # when 4 and then 8 customers are read two by two (2, then 4 chunks)
    four = _export_queries(owner, chunk_size=2, columns=columns)
    for i in range(4, 8):
        _customer(owner, f"Cliente {i}")
    eight = _export_queries(owner, chunk_size=2, columns=columns)

    # then each extra chunk costs exactly those four queries
    assert eight - four == 2 * 4


def test_the_download_runs_the_same_queries_whatever_the_number_of_rows(owner: User) -> None:
    client = client_for(owner)
    columns = ["code", "owner", "tags", "phone", "country"]
    _customer(owner, "Primero")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            _body(_download(client, "", columns=columns))
        return len(ctx.captured_queries)

    few = queries()
    for i in range(6):
        _customer(owner, f"Más {i}", tags=["vip", "norte"])
    assert queries() == few


# --- The page and the list's button ------------------------------------------------------------


def test_the_export_page_keeps_the_lists_filters(owner: User) -> None:
    _english(owner)
    _customer(owner, "En Página")
    response = client_for(owner).get("/export/?stage=client&sort=-name&page=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="query" value="stage=client&amp;sort=-name"' in html
    assert "1 customer will be exported." in html
    assert 'value="code" checked' in html


def test_the_lists_export_button_sent_by_htmx_opens_the_page(owner: User) -> None:
    response = client_for(owner).get("/export/?stage=client", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/export/?stage=client"


def test_the_list_and_the_ficha_link_to_the_export(owner: User) -> None:
    customer = _customer(owner, "Enlazado", contacts=CONTACTS)
    client = client_for(owner)
    assert 'formaction="/export/"' in client.get("/customers/").content.decode()
    ficha = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f"/export/customers/{customer.pk}/contacts.vcf" in ficha


# --- API ----------------------------------------------------------------------------------------


def test_api_exports_the_filtered_list(owner: User, outsider: User, team_visibility: Any) -> None:
    mine = _customer(owner, "Por API")
    make_lead(owner, "Lead por API")
    _customer(outsider, "Ajeno por API")
    response = client_for(owner).get(
        "/api/customers/export?format=csv&columns=code,legal_name&stage=client&lang=en"
    )
    assert isinstance(response, StreamingHttpResponse)
    assert _rows(response) == [["Code", "Legal name"], [mine.code, "Por API"]]


def test_api_xlsx_with_a_token_and_segment_export(owner: User) -> None:
    _customer(owner, "Token SA")
    segment = segments.create_segment(name="Clientes", query="stage=client", by=owner)
    auth = bearer(owner, scope="read")
    response = client_for(owner).get("/api/customers/export?format=xlsx&search=token", **auth)
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response))).active
    assert sheet.max_row == 2
    response = client_for(owner).get(f"/api/segments/{segment.pk}/export?columns=legal_name")
    assert [r[0] for r in _rows(response)][1:] == ["Token SA"]
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_type="segment").count() == 1


def test_api_refuses_an_unknown_column_naming_it(owner: User) -> None:
    response = client_for(owner).get("/api/customers/export?columns=code,secret")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "columns"]
    response = client_for(owner).get("/api/customers/export?stage=nonsense")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "stage"]


@pytest.mark.parametrize("sort", typing.get_args(FilterParams.model_fields["sort"].annotation))
def test_every_sort_the_api_offers_is_taken(owner: User, sort: str) -> None:
    # given three clients made one after the other
    made = [_customer(owner, name) for name in ("Beta", "Alfa", "Gamma")]
    by_name = sorted(made, key=lambda c: c.legal_name)
    expected = {
        "name": by_name, "code": made, "created": made, "updated": made,
    }[sort.lstrip("-")]  # fmt: skip
    if sort.startswith("-"):
        expected = expected[::-1]

    # when the API exports them in the sort the schema offers
    response = client_for(owner).get(f"/api/customers/export?columns=legal_name&sort={sort}")

    # then the export is given, in that order, and the customer list takes the same sort
    assert response.status_code == 200, response.content
    assert [r[0] for r in _rows(response)][1:] == [c.legal_name for c in expected]
    assert sort in dict(CustomerFilter.base_fields["sort"].choices)
    assert sort in typing.get_args(ListParams.model_fields["sort"].annotation)
