"""The register's pages: list, ficha, reduced and complete forms."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.customers import services
from cartera.customers.models import Customer, CustomField
from tests.conftest import CIF_SL, client_for, make_customer, make_lead

pytestmark = pytest.mark.django_db

# Another valid CIF (an SA) for a second customer.
CIF_SA = "A28015865"


def _reduced_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "tax_country": "ES",
        "tax_id": "B-1234567-4",
        "kind": "",
        "fiscal_type": "",
        "legal_form": "",
        "legal_name": "Muñoz y Asociados SL",
        "first_name": "",
        "last_name": "",
        "trade_name": "",
        "stage": "client",
        "owner": "",
        "fiscal-type": "fiscal",
        "fiscal-street": "Calle Mayor",
        "fiscal-exterior_number": "28",
        "fiscal-interior_number": "3º B",
        "fiscal-neighbourhood": "",
        "fiscal-postal_code": "28013",
        "fiscal-municipality": "Madrid",
        "fiscal-locality": "",
        "fiscal-region": "",
        "fiscal-country": "ES",
        "quick-phone": "600 11 22 33",
        "quick-email": "info@munoz.example",
    }
    data.update(overrides)
    return data


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_reduced_form_creates_an_invoiceable_client_from_a_cif(owner: User) -> None:
    # given a salesperson on the reduced form, typing only what invoicing needs
    client = client_for(owner)
    # when they save it without choosing kind, fiscal type or legal form
    response = client.post("/customers/new/", _reduced_post())
    # then the customer exists with what the CIF implies, and the ficha opens
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert (customer.kind, customer.tax_id, customer.legal_form.code) == (
        "organization",
        CIF_SL,
        "SL",
    )
    assert customer.fiscal_type.code == "sociedad_mercantil"
    assert customer.addresses.get().region == "ES-M"
    assert sorted(customer.channels.values_list("value", flat=True)) == [
        "+34600112233",
        "info@munoz.example",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Facturable." in page
    assert "Muñoz y Asociados SL" in page


def test_reduced_form_errors_land_on_their_fields_and_nothing_is_saved(owner: User) -> None:
    # given a wrong check digit, a bad postal code and a bad phone
    client = client_for(owner)
    data = _reduced_post(
        **{"tax_id": "B12345675", "fiscal-postal_code": "99999", "quick-phone": "12"}
    )
    # when posted
    response = client.post("/customers/new/", data)
    # then the form comes back with each error under its field, in Spanish
    assert response.status_code == 422
    editor = response.context["editor"]
    assert "dígito de control" in " ".join(editor.form.errors["tax_id"])
    assert Customer.objects.count() == 0


def test_reduced_form_reports_postal_code_and_phone_on_their_fields(owner: User) -> None:
    client = client_for(owner)
    data = _reduced_post(**{"fiscal-postal_code": "99999", "quick-phone": "12"})
    response = client.post("/customers/new/", data)
    assert response.status_code == 422
    editor = response.context["editor"]
    assert editor.fiscal.errors["postal_code"]
    assert editor.quick.errors["phone"]
    assert Customer.objects.count() == 0


def test_duplicate_tax_id_links_to_the_existing_customer(owner: User) -> None:
    # given a customer with the CIF
    first = make_customer(owner)
    # when someone enters it again
    response = client_for(owner).post("/customers/new/", _reduced_post(legal_name="Otra SL"))
    # then it is refused with a link to the first one
    assert response.status_code == 422
    assert f'href="/customers/{first.pk}/"' in response.content.decode()
    assert Customer.objects.count() == 1


def test_lead_needs_only_a_name_and_one_channel(owner: User) -> None:
    client = client_for(owner)
    data = _reduced_post(
        **{
            "tax_id": "",
            "kind": "person",
            "legal_name": "",
            "first_name": "Lucía",
            "last_name": "Gómez Ruiz",
            "stage": "lead",
            "fiscal-street": "",
            "fiscal-exterior_number": "",
            "fiscal-interior_number": "",
            "fiscal-postal_code": "",
            "fiscal-municipality": "",
            "quick-phone": "",
        }
    )
    response = client.post("/customers/new/", data)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.legal_name == "Lucía Gómez Ruiz"
    page = client.get(response["Location"]).content.decode()
    assert "Aún no se puede facturar." in page


def _complete_post(customer: Customer, **overrides: Any) -> dict[str, Any]:
    channels = list(customer.channels.all())
    address = customer.addresses.get()
    data: dict[str, Any] = {
        "version": customer.version,
        "kind": customer.kind,
        "fiscal_type": customer.fiscal_type_id,
        "tax_country": "ES",
        "tax_id": customer.tax_id,
        "legal_name": customer.legal_name,
        "trade_name": "Muñoz Asesores",
        "legal_form": customer.legal_form_id or "",
        "stage": "client",
        "status": "active",
        "owner": customer.owner_id,
        "tags": "feria-2026, vip",
        "notes": "Llamar por la tarde",
        "payment_terms_days": "30",
        "annual_revenue": "1.250.000,50",
        "currency": "EUR",
        "channels-TOTAL_FORMS": len(channels),
        "channels-INITIAL_FORMS": len(channels),
        "addresses-TOTAL_FORMS": 1,
        "addresses-INITIAL_FORMS": 1,
        "contacts-TOTAL_FORMS": 1,
        "contacts-INITIAL_FORMS": 0,
        "addresses-0-id": address.pk,
        "addresses-0-type": "fiscal",
        "addresses-0-street": address.street,
        "addresses-0-exterior_number": address.exterior_number,
        "addresses-0-postal_code": address.postal_code,
        "addresses-0-municipality": address.municipality,
        "addresses-0-region": address.region,
        "addresses-0-country": "ES",
        "contacts-0-first_name": "Pedro",
        "contacts-0-last_name": "Sanz",
        "contacts-0-role": "Compras",
        "contacts-0-email": "pedro@munoz.example",
        "contacts-0-mobile": "611 22 33 44",
    }
    for i, channel in enumerate(channels):
        data[f"channels-{i}-id"] = channel.pk
        data[f"channels-{i}-type"] = channel.type
        data[f"channels-{i}-value"] = channel.value
    data.update(overrides)
    return data


def test_complete_form_saves_every_section(owner: User) -> None:
    # given an existing client
    customer = make_customer(owner)
    client = client_for(owner)
    # when the complete form is posted with a new contact and commercial data
    response = client.post(f"/customers/{customer.pk}/edit/", _complete_post(customer))
    # then everything is stored, amounts read with a decimal comma
    assert response.status_code == 302, response.context["editor"].form.errors
    customer.refresh_from_db()
    assert customer.trade_name == "Muñoz Asesores"
    assert str(customer.annual_revenue) == "1250000.50"
    assert sorted(t.name for t in customer.tags.all()) == ["feria-2026", "vip"]
    contact = customer.contacts.get()
    assert (contact.full_name, contact.mobile) == ("Pedro Sanz", "+34611223344")
    assert customer.version == 2


def test_complete_form_removes_a_channel_marked_for_deletion(owner: User) -> None:
    customer = make_customer(owner)
    data = _complete_post(customer, **{"channels-1-DELETE": "on"})
    response = client_for(owner).post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302
    assert list(customer.channels.values_list("type", flat=True)) == ["phone"]


def test_complete_form_puts_formset_errors_on_the_right_row(owner: User) -> None:
    customer = make_customer(owner)
    data = _complete_post(customer, **{"contacts-0-email": "no-es-un-correo"})
    response = client_for(owner).post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 422
    contacts = response.context["editor"].contacts
    assert contacts.forms[0].errors["email"] == ["Introduce un correo electrónico válido."]
    assert customer.contacts.count() == 0


def test_edit_refuses_a_stale_version(owner: User, teammate: User) -> None:
    # given two people who opened the same customer
    customer = make_customer(owner)
    stale = _complete_post(customer, trade_name="Versión de Tomás")
    client_for(owner).post(f"/customers/{customer.pk}/edit/", _complete_post(customer))
    # when the second one saves
    response = client_for(teammate).post(f"/customers/{customer.pk}/edit/", stale)
    # then it is refused with the reason, and the first save stands
    assert response.status_code == 409
    assert "mientras lo editabas" in response.content.decode()
    customer.refresh_from_db()
    assert customer.trade_name == "Muñoz Asesores"


def test_custom_fields_show_in_the_form_and_the_ficha(owner: User) -> None:
    CustomField.objects.create(label="Nº de tiendas", key="tiendas", field_type="number")
    customer = make_customer(owner)
    data = _complete_post(customer, cf_tiendas="12")
    response = client_for(owner).post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.custom_data == {"tiendas": "12"}
    page = client_for(owner).get(f"/customers/{customer.pk}/").content.decode()
    assert "Nº de tiendas" in page


def test_list_filters_by_custom_field(owner: User) -> None:
    CustomField.objects.create(
        label="Canal", key="canal", field_type="choice", choices="Tienda\nOnline"
    )
    make_customer(owner, custom_data={"canal": "Online"})
    make_lead(owner, "Otro", custom_data={"canal": "Tienda"})
    response = client_for(owner).get("/customers/?cf_canal=Online")
    assert [c.legal_name for c in response.context["page"].object_list] == ["Muñoz y Asociados SL"]


def test_list_search_filters_and_sort_live_in_the_url(owner: User) -> None:
    make_customer(owner)
    make_lead(owner, "Zapatería Núñez")
    client = client_for(owner)
    names = lambda r: [c.legal_name for c in r.context["page"].object_list]  # noqa: E731
    assert names(client.get("/customers/?q=nunez")) == ["Zapatería Núñez"]
    assert names(client.get("/customers/?stage=client")) == ["Muñoz y Asociados SL"]
    assert names(client.get("/customers/?sort=-name")) == [
        "Zapatería Núñez",
        "Muñoz y Asociados SL",
    ]
    assert names(client.get("/customers/?country=ES&region=ES-M")) == ["Muñoz y Asociados SL"]


def test_list_ignores_a_bad_filter_value_instead_of_failing(owner: User) -> None:
    make_customer(owner)
    response = client_for(owner).get("/customers/?stage=robot&owner=abc&page=zzz")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1


def test_htmx_search_returns_only_the_results(owner: User) -> None:
    make_customer(owner)
    response = client_for(owner).get(
        "/customers/?q=munoz", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "Muñoz y Asociados SL" in html


def test_list_runs_a_constant_number_of_queries(owner: User) -> None:
    client = client_for(owner)
    make_customer(owner)
    few = _count_queries(client, "/customers/")
    for i in range(8):
        make_lead(owner, f"Lead {i}", tags=["a", "b"])
    many = _count_queries(client, "/customers/")
    assert few == many


def test_ficha_runs_a_constant_number_of_queries(owner: User) -> None:
    client = client_for(owner)
    small = make_customer(owner)
    big = make_customer(
        owner,
        tax_id=CIF_SA,
        legal_name="Grande SA",
        contacts=[{"first_name": f"Persona {i}", "email": f"p{i}@x.example"} for i in range(5)],
        channels=[{"type": "phone", "value": f"+3460011220{i}"} for i in range(5)],
        tags=["uno", "dos", "tres"],
    )
    assert _count_queries(client, f"/customers/{small.pk}/") == _count_queries(
        client, f"/customers/{big.pk}/"
    )


def test_archive_and_restore_from_the_ficha(owner: User) -> None:
    customer = make_customer(owner)
    client = client_for(owner)
    client.post(f"/customers/{customer.pk}/archive/")
    assert client.get("/customers/").context["page"].paginator.count == 0
    assert client.get("/customers/?archived=on").context["page"].paginator.count == 1
    client.post(f"/customers/{customer.pk}/restore/")
    assert client.get("/customers/").context["page"].paginator.count == 1


def test_archive_needs_post(owner: User) -> None:
    customer = make_customer(owner)
    assert client_for(owner).get(f"/customers/{customer.pk}/archive/").status_code == 405


def test_regions_endpoint_lists_a_countrys_subdivisions(owner: User) -> None:
    data = client_for(owner).get("/customers/regions/?country=MX").json()
    assert ["MX-JAL", "Jalisco"] in data["regions"]


def test_pages_are_spanish_by_default_and_english_on_request(owner: User) -> None:
    client = client_for(owner)
    assert "Nuevo cliente" in client.get("/customers/").content.decode()
    client.post("/language/", {"language": "en", "next": "/customers/"})
    page = client.get("/customers/").content.decode()
    assert "New customer" in page
    owner.refresh_from_db()
    assert owner.language == "en"


def test_language_switch_never_redirects_off_site(owner: User) -> None:
    response = client_for(owner).post(
        "/language/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_security_headers(owner: User) -> None:
    response = client_for(owner).get("/customers/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"


def test_counts_stop_at_the_ceiling_and_say_more_than(owner: User, settings: Any) -> None:
    # given more customers than the ceiling
    settings.CARTERA_MAX_COUNT = 3
    for i in range(5):
        make_lead(owner, f"Lead {i}")
    client = client_for(owner)
    # when the list and the API are read
    page = client.get("/customers/")
    api = client.get("/api/customers").json()
    # then both say "more than 3" instead of counting everything
    assert "Más de 3 clientes" in page.content.decode()
    assert (api["count"], api["count_is_exact"]) == (3, False)
    assert len(api["results"]) == 5
    # and an exact count below the ceiling stays exact
    settings.CARTERA_MAX_COUNT = 100
    assert client.get("/api/customers").json()["count_is_exact"] is True


def test_the_list_sorts_names_as_a_spanish_reader_expects(owner: User) -> None:
    # given names with capitals, accents and ñ, and one renamed after it was created
    # (one ñ written as an n and a combining tilde, as files from some systems have it)
    names = ["Óptica Central", "zapatería López", "Nube SL", "Ñandú SA", "Oca SL", "Álamo SA",
             unicodedata.normalize("NFD", "Ñu SL")]  # fmt: skip
    for name in names:
        make_lead(owner, name)
    make_lead(owner, "Zeta Holding SL", trade_name="Bar Alfa")  # listed by its trade name
    renamed = make_lead(owner, "Zeta SL")
    services.update_customer(
        customer=renamed, data={"legal_name": "Ébano SL"}, by=owner, version=renamed.version
    )

    # when the list is sorted by name, A–Z and Z–A
    def listed(sort: str) -> list[str]:
        page = client_for(owner).get(f"/customers/?sort={sort}").context["page"]
        return [c.display_name for c in page.object_list]

    # then case and accents do not count, and ñ comes after n
    expected = ["Álamo SA", "Bar Alfa", "Ébano SL", "Nube SL", "Ñandú SA", "Ñu SL", "Oca SL",
                "Óptica Central", "zapatería López"]  # fmt: skip
    nfc = lambda names: [unicodedata.normalize("NFC", n) for n in names]  # noqa: E731
    assert nfc(listed("name")) == expected
    assert nfc(listed("-name")) == expected[::-1]


def test_names_are_compared_byte_by_byte_whatever_the_database_s_collation() -> None:
    # the key puts ñ after n with "~", which a language's collation would pass over
    if connection.vendor != "postgresql":
        pytest.skip("SQLite compares text byte by byte")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'customers_customer' AND column_name = 'sort_name'"
        )
        assert cursor.fetchone() == ("C",)
