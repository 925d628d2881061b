"""The customer register as a salesperson uses it: a real Chromium against a live server."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import polib
import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.customers import services
from cartera.customers.models import Customer
from tests.conftest import make_customer, make_lead
from tests.e2e.conftest import expect_http_errors, login, shot

pytestmark = [
    pytest.mark.e2e,
    # The live server needs real commits (conftest's seeded_lists refills the seeded lists).
    pytest.mark.django_db(transaction=True),
]

CATALOGUE = Path(__file__).resolve().parents[2] / "cartera/locale/es/LC_MESSAGES/django.po"


@cache
def english_sources() -> tuple[str, ...]:
    """English texts of the interface that read differently in Spanish (two words or more)."""
    texts = set()
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete or "%" in entry.msgid or "{" in entry.msgid or "<" in entry.msgid:
            continue
        if len(entry.msgid.split()) >= 2 and entry.msgstr != entry.msgid:
            texts.add(entry.msgid)
    return tuple(sorted(texts))


def assert_spanish(page: Page) -> None:
    """The page is in Spanish: no text of the interface is left in English."""
    assert page.locator("html").get_attribute("lang") == "es"
    text = page.locator("body").inner_text()
    english = [source for source in english_sources() if source in text]
    assert english == [], f"untranslated text on {page.url}: {english}"


def customers_url(live_server: Any) -> str:
    return f"{live_server.url}/customers/"


def results_row(page: Page, name: str) -> Any:
    return page.locator("#results tbody tr", has_text=name)


# --- 1. Logging in -------------------------------------------------------------------


def test_salesperson_logs_in_and_lands_on_my_day(page: Page, live_server: Any, owner: User) -> None:
    # given the login page
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Entrar en Cartera")).to_be_visible()
    assert_spanish(page)
    shot(page, "01-login")
    # when the salesperson logs in with their password
    login(page, live_server, owner)
    # then they land on their day, with the customer list one click away
    expect(page).to_have_url(f"{live_server.url}/today/")
    expect(page.get_by_role("heading", name="Mi día", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Nuevo cliente").first).to_be_visible()
    assert_spanish(page)
    shot(page, "01-my-day-empty")


def test_wrong_password_shows_the_spanish_error_and_stays_on_login(
    page: Page, live_server: Any, owner: User
) -> None:
    # given a salesperson who mistypes the password
    # when they try to log in
    login(page, live_server, owner, password="no-es-la-clave")
    # then the login page explains it in Spanish and nobody is logged in
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("correctos")
    expect(alert).to_contain_text("mayúsculas")
    expect(page.locator("input[name=password]")).to_be_visible()
    assert_spanish(page)
    shot(page, "01-login-wrong-password")


# --- 2. Creating a customer from the reduced form -------------------------------------


def test_create_a_spanish_company_from_the_reduced_form(
    page: Page, live_server: Any, owner: User
) -> None:
    # given a salesperson on the reduced form, with España as the tax country
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/customers/new/")
    expect(page.get_by_role("heading", name="Nuevo cliente")).to_be_visible()
    expect(page.locator("select[name=tax_country] option:checked")).to_have_text("España")

    # when they type the CIF of a limited company
    page.locator("input[name=tax_id]").fill("B-12345674")

    # then the form fills in what the CIF implies
    expect(page.locator("#tax-id-feedback")).to_have_text("✓ Válido: CIF B12345674")
    expect(page.locator("input[name=kind][value=organization]")).to_be_checked()
    expect(page.locator("select[name=legal_form] option:checked")).to_have_text(
        "SL · Sociedad limitada"
    )
    expect(page.locator("select[name=fiscal_type] option:checked")).to_have_text(
        "Sociedad mercantil"
    )
    assert_spanish(page)
    shot(page, "02-reduced-form-prefilled")

    # when they complete the fiscal data, a phone and an e-mail, and save as a client
    page.locator("input[name=legal_name]").fill("Muñoz y Asociados SL")
    page.locator("input[name=fiscal-street]").fill("Calle Mayor")
    page.locator("input[name=fiscal-exterior_number]").fill("28")
    page.locator("input[name=fiscal-interior_number]").fill("3º B")
    page.locator("input[name=fiscal-postal_code]").fill("28013")
    page.locator("input[name=fiscal-municipality]").fill("Madrid")
    page.locator("input[name=quick-phone]").fill("600 11 22 33")
    page.locator("input[name=quick-email]").fill("info@munoz.example")
    expect(page.locator("select[name=stage] option:checked")).to_have_text("Cliente")
    page.get_by_role("button", name="Guardar cliente").click()

    # then the new ficha opens, invoiceable, with the data as typed
    expect(page.get_by_role("status").filter(has_text="creado")).to_have_text(
        re.compile(r"^Cliente C-\d+ creado\.$")
    )
    expect(page.get_by_role("heading", name="Muñoz y Asociados SL")).to_be_visible()
    expect(page.locator(".invoiceable-yes")).to_contain_text("Facturable.")
    # (a Spanish CIF is written without separators: that is its formatted form)
    expect(page.locator(".taxid")).to_have_text("B12345674")
    expect(page.get_by_role("link", name="600 11 22 33")).to_be_visible()
    expect(page.get_by_role("link", name="info@munoz.example")).to_be_visible()
    expect(page.locator("address")).to_contain_text("Calle Mayor")
    expect(page.locator("address")).to_contain_text("Madrid")
    assert_spanish(page)
    shot(page, "02-ficha-created")
    customer = Customer.objects.get()
    assert customer.tax_id == "B12345674"
    assert customer.owner == owner
    assert {a.region for a in customer.addresses.all()} == {"ES-M"}


# --- 3. Searching the list ------------------------------------------------------------


def test_search_ignores_accents_and_finds_phone_numbers(
    page: Page, live_server: Any, owner: User
) -> None:
    # given two customers: Muñoz (phone 600 11 22 33) and another one
    make_customer(owner)
    make_lead(owner, "Ferretería López")
    login(page, live_server, owner)
    page.goto(customers_url(live_server))
    expect(results_row(page, "Ferretería López")).to_be_visible()
    page.evaluate("window.cartera_same_page = true")

    # when the salesperson types "munoz" without the tilde
    search = page.locator("#filters input[name=q]")
    search.fill("munoz")

    # then htmx replaces the results in place, and only Muñoz is listed
    expect(page).to_have_url(re.compile(r"[?&]q=munoz"))
    expect(results_row(page, "Muñoz y Asociados SL")).to_be_visible()
    expect(results_row(page, "Ferretería López")).to_have_count(0)
    assert page.evaluate("window.cartera_same_page") is True, "the page was reloaded"
    assert_spanish(page)
    shot(page, "03-search-munoz")

    # when they search the phone number without spaces
    search.fill("600112233")
    # then Muñoz is found by its phone
    expect(page).to_have_url(re.compile(r"[?&]q=600112233"))
    expect(results_row(page, "Muñoz y Asociados SL")).to_be_visible()
    expect(results_row(page, "Ferretería López")).to_have_count(0)
    assert page.evaluate("window.cartera_same_page") is True
    shot(page, "03-search-phone")


# --- 4. Editing with the complete form ------------------------------------------------


def test_edit_adds_a_contact_and_changes_the_trade_name(
    page: Page, live_server: Any, owner: User
) -> None:
    # given a customer in the salesperson's list
    customer = make_customer(owner)
    login(page, live_server, owner)
    page.goto(customers_url(live_server))

    # when they open its ficha from the list, then "Editar"
    results_row(page, "Muñoz y Asociados SL").get_by_role(
        "link", name="Muñoz y Asociados SL"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_role("button", name="Editar", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/edit/")
    expect(page.get_by_role("heading", name="Editar Muñoz y Asociados SL")).to_be_visible()

    # and add a contact and a trade name
    contacts = page.locator("[data-formset=contacts]")
    expect(contacts.locator(".formset-rows .formset-row")).to_have_count(0)
    contacts.get_by_role("button", name="Añadir contacto").click()
    row = contacts.locator(".formset-rows .formset-row")
    expect(row).to_have_count(1)
    row.locator("input[name$='-first_name']").fill("Lucía")
    row.locator("input[name$='-last_name']").fill("Pérez Gil")
    row.locator("input[name$='-role']").fill("Directora financiera")
    page.locator("input[name=trade_name]").fill("Muñoz Asesores")
    assert_spanish(page)
    shot(page, "04-complete-form")
    page.get_by_role("button", name="Guardar cliente").click()

    # then the ficha shows the trade name and the contact
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.get_by_role("status").filter(has_text="Cambios guardados.")).to_be_visible()
    expect(page.get_by_role("heading", name="Muñoz Asesores")).to_be_visible()
    expect(page.locator(".contact")).to_contain_text("Lucía Pérez Gil · Directora financiera")
    expect(page.locator(".invoiceable-yes")).to_be_visible()
    assert_spanish(page)
    shot(page, "04-ficha-edited")
    customer.refresh_from_db()
    assert customer.trade_name == "Muñoz Asesores"
    assert [c.role for c in customer.contacts.all()] == ["Directora financiera"]
    assert customer.channels.count() == 2
    assert customer.addresses.count() == 1


# --- 5. Bad input ---------------------------------------------------------------------


def test_invalid_cif_is_explained_and_nothing_is_saved(
    page: Page, live_server: Any, owner: User, request: pytest.FixtureRequest
) -> None:
    expect_http_errors(request, 422)
    before = Customer.objects.count()
    # given the reduced form
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/customers/new/")

    # when the salesperson types a CIF with a wrong check digit
    page.locator("input[name=tax_id]").fill("B-12345675")

    # then the live feedback gives the reason in Spanish
    feedback = page.locator("#tax-id-feedback")
    expect(feedback).to_contain_text("dígito de control")
    expect(page.locator("input[name=tax_id]")).to_have_attribute("aria-invalid", "true")

    # when they save anyway
    page.locator("input[name=legal_name]").fill("Cifras Erróneas SL")
    expect(page.locator("select[name=stage] option:checked")).to_have_text("Cliente")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/customers/new/")
    ) as response:
        page.get_by_role("button", name="Guardar cliente").click()

    # then the form comes back with the error under the tax id, and nothing is created
    assert response.value.status == 422
    expect(page.locator("[data-field=tax_id] .error")).to_contain_text("dígito de control")
    expect(page.locator("input[name=tax_id]")).to_have_value("B-12345675")
    expect(page.locator("input[name=legal_name]")).to_have_value("Cifras Erróneas SL")
    assert_spanish(page)
    shot(page, "05-invalid-cif")
    assert Customer.objects.count() == before


# --- 6. A lead with almost nothing -----------------------------------------------------


def test_lead_with_a_name_and_an_email_is_saved_but_not_invoiceable(
    page: Page, live_server: Any, owner: User
) -> None:
    # given the reduced form
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/customers/new/")

    # when the salesperson saves a lead with just a name and an e-mail
    page.get_by_label("Persona jurídica").check()
    page.locator("input[name=legal_name]").fill("Distribuciones del Sur")
    page.locator("input[name=quick-email]").fill("compras@sur.example")
    page.locator("select[name=stage]").select_option(label="Lead")
    page.get_by_role("button", name="Guardar cliente").click()

    # then the ficha opens and says what is missing before it can be invoiced
    expect(page.get_by_role("heading", name="Distribuciones del Sur")).to_be_visible()
    warning = page.locator(".invoiceable-no")
    expect(warning).to_contain_text("Aún no se puede facturar.")
    expect(warning).to_contain_text("Falta:")
    expect(warning).to_contain_text("identificador fiscal")
    expect(warning).to_contain_text("dirección fiscal")
    expect(page.locator(".invoiceable-yes")).to_have_count(0)
    expect(page.get_by_role("link", name="compras@sur.example")).to_be_visible()
    assert_spanish(page)
    shot(page, "06-lead-not-invoiceable")
    lead = Customer.objects.get()
    assert (lead.stage, lead.kind, lead.tax_id) == ("lead", "organization", "")


# --- 7. Visibility ------------------------------------------------------------------------


def test_salesperson_of_another_team_cannot_see_the_customer(
    page: Page,
    live_server: Any,
    owner: User,
    outsider: User,
    team_visibility: Any,
    request: pytest.FixtureRequest,
) -> None:
    expect_http_errors(request, 404)
    # given a customer of the team Norte and a salesperson of the team Sur
    customer = make_customer(owner)
    login(page, live_server, outsider)
    page.goto(customers_url(live_server))

    # then the customer is not in their list
    expect(page.get_by_role("heading", name="Clientes", exact=True)).to_be_visible()
    expect(page.locator("#results")).to_contain_text("0 clientes")
    expect(page.get_by_text("Muñoz y Asociados SL")).to_have_count(0)
    assert_spanish(page)
    shot(page, "07-outsider-list")

    # and opening its ficha directly answers "not found"
    response = page.goto(f"{live_server.url}/customers/{customer.pk}/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_text("Muñoz y Asociados SL")).to_have_count(0)
    shot(page, "07-outsider-404")


def test_not_found_page_is_in_spanish_inside_the_app_layout(
    page: Page, live_server: Any, owner: User, request: pytest.FixtureRequest
) -> None:
    expect_http_errors(request, 404)
    # given a logged-in salesperson
    login(page, live_server, owner)
    # when they open a ficha that does not exist
    response = page.goto(f"{live_server.url}/customers/999999/")
    # then the answer is a 404 in Spanish, with the header to find their way back
    assert response is not None
    assert response.status == 404
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("header nav").get_by_role("link", name="Clientes").count() == 1
    assert "Not Found" not in page.locator("body").inner_text()


# --- 8. Language ------------------------------------------------------------------------


def test_switch_to_english_and_back(page: Page, live_server: Any, owner: User) -> None:
    # given a salesperson on the list in Spanish
    login(page, live_server, owner)
    page.goto(customers_url(live_server))
    expect(page.get_by_role("heading", name="Clientes", exact=True)).to_be_visible()

    # when they click "English" in the header
    page.get_by_role("button", name="English").click()

    # then the interface is in English
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New customer").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "08-english")

    # when they switch back with "Español"
    page.get_by_role("button", name="Español").click()

    # then it is Spanish again
    expect(page.get_by_role("heading", name="Clientes", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Nuevo cliente").first).to_be_visible()
    assert_spanish(page)


# --- 9. Archiving ---------------------------------------------------------------------


def test_archive_asks_first_hides_the_customer_and_restore_brings_it_back(
    page: Page, live_server: Any, owner: User
) -> None:
    # given a customer on its ficha
    customer = make_customer(owner)
    login(page, live_server, owner)
    ficha = f"{live_server.url}/customers/{customer.pk}/"
    page.goto(ficha)
    dialogs: list[str] = []

    # when the salesperson clicks "Archivar" but cancels the confirmation
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Archivar").click()
    # then nothing changes
    expect(page.get_by_role("button", name="Archivar")).to_be_visible()
    assert dialogs and "¿Archivar este cliente?" in dialogs[0]
    customer.refresh_from_db()
    assert not customer.is_archived

    # when they archive it and accept the confirmation
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Archivar").click()

    # then the ficha says it is archived
    expect(page.get_by_role("status").filter(has_text="Cliente archivado.")).to_be_visible()
    expect(page.locator(".badge.archived")).to_be_visible()
    expect(page.get_by_role("button", name="Restaurar")).to_be_visible()
    assert_spanish(page)
    shot(page, "09-ficha-archived")

    # and the list no longer shows it
    page.get_by_role("link", name="Clientes", exact=True).click()
    expect(page.get_by_role("heading", name="Clientes", exact=True)).to_be_visible()
    expect(results_row(page, "Muñoz y Asociados SL")).to_have_count(0)

    # unless the "Archivados" filter is ticked
    page.locator("#filters summary").click()
    page.get_by_label("Archivados").check()
    expect(results_row(page, "Muñoz y Asociados SL")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]archived=on"))
    shot(page, "09-list-archived-filter")

    # when they restore it from the ficha
    results_row(page, "Muñoz y Asociados SL").get_by_role(
        "link", name="Muñoz y Asociados SL"
    ).click()
    page.get_by_role("button", name="Restaurar").click()

    # then it is back in the list
    expect(page.get_by_role("status").filter(has_text="Cliente restaurado.")).to_be_visible()
    expect(page.locator(".badge.archived")).to_have_count(0)
    page.goto(customers_url(live_server))
    expect(results_row(page, "Muñoz y Asociados SL")).to_be_visible()
    customer.refresh_from_db()
    assert not customer.is_archived


def test_archived_badge_is_singular(page: Page, live_server: Any, owner: User) -> None:
    # given an archived customer
    customer = make_customer(owner)
    services.archive_customer(customer=customer, by=owner)
    login(page, live_server, owner)
    # when its ficha is opened
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    # then its badge says it is "Archivado"
    assert page.locator(".badge.archived").inner_text() == "Archivado"
