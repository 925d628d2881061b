"""Exports in a real browser: filter the customer list, export it, read the downloaded file."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.audit.models import Action, AuditEvent
from tests.conftest import make_customer, make_lead, make_user, valid_cif
from tests.e2e.conftest import login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_export_the_filtered_list_to_csv(page: Page, live_server: Any) -> None:
    # given a salesperson's clients and leads
    user = make_user("lucia")
    contacts = [{"first_name": "Begoña", "last_name": "Ibáñez", "role": "Gerente"}]
    clients = [
        make_customer(
            user, legal_name=f"Cliente Exportado {i}", tax_id=valid_cif(4000 + i), contacts=contacts
        )
        for i in range(3)
    ]
    make_lead(user, "Lead que no sale")
    login(page, live_server, user)

    # when she filters the list by stage (the results change in place) and presses Export
    page.goto(f"{live_server.url}/customers/")
    page.locator("#filters details summary").click()
    page.locator("#filters select[name=stage]").select_option("client")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    shot(page, "customer-list-export-button")
    with page.expect_navigation():
        page.locator("#export-list").click()

    # then the export page keeps the filter and says how many customers it holds
    expect(page.locator("#export-form")).to_be_visible()
    expect(page.locator("#export-summary")).to_contain_text("3")
    page.locator("input[name=columns][value=tags]").check()
    page.locator("input[name=columns][value=region]").uncheck()
    shot(page, "export-form")

    # and the downloaded file is a Spanish CSV with exactly those clients
    with page.expect_download() as download:
        page.locator("#export-download").click()
    path = download.value.path()
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Código"
    assert "Región" not in rows[0] and rows[0][-1] == "Etiquetas"
    assert sorted(r[0] for r in rows[1:]) == sorted(c.code for c in clients)
    assert download.value.suggested_filename.endswith(".csv")
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert "stage=client" in event.changes["filters"][1]
    assert event.changes["rows"] == [None, 3]


def test_the_fichas_contacts_as_vcard(page: Page, live_server: Any) -> None:
    # given a client with a contact
    user = make_user("lucia")
    contacts = [{"first_name": "Begoña", "last_name": "Ibáñez", "role": "Gerente, compras"}]
    customer = make_customer(user, contacts=contacts)
    login(page, live_server, user)

    # when she downloads the contacts from the ficha
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    shot(page, "ficha-contacts-vcard")
    with page.expect_download() as download:
        page.locator("#contacts-vcard").click()

    # then the file is the contact's vCard
    text = download.value.path().read_bytes().decode("utf-8")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert "N:Ibáñez;Begoña;;;\r\n" in text and "TITLE:Gerente\\, compras\r\n" in text
