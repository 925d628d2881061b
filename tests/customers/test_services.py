"""Tests for the customer use cases (cartera.customers.services) on a real database."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from cartera.accounts.models import User
from cartera.customers import services
from cartera.customers.models import (
    ContactChannel,
    Customer,
    CustomField,
    CustomFieldType,
    FiscalType,
)
from cartera.customers.validation import CustomerInvalid
from tests.conftest import CIF_SL, DNI, client_data, make_customer, make_lead, valid_cif


def _refused(data: dict[str, Any], by: User) -> CustomerInvalid:
    """Try to create a customer that must be refused; return the error."""
    with pytest.raises(CustomerInvalid) as caught:
        services.create_customer(data=data, by=by)
    return caught.value


# --- Creating ------------------------------------------------------------------------


def test_create_client_stores_everything_normalised(owner: User) -> None:
    # given an invoiceable company typed the way people type it, with no fiscal type chosen
    data = client_data(
        tax_id="B-12345674",
        channels=[
            {"type": "phone", "value": "+34 600 11 22 33"},
            {"type": "email", "value": "Info@MUNOZ.Example"},
        ],
    )
    del data["fiscal_type"]

    # when it is created
    customer = services.create_customer(data=data, by=owner)

    # then the fiscal data is compact and what the CIF implies is filled in
    customer.refresh_from_db()
    assert customer.code == "C-000001"
    assert (customer.tax_id, customer.tax_country, customer.tax_id_type) == (
        CIF_SL,
        "ES",
        "es_cif",
    )
    assert customer.legal_form is not None and customer.legal_form.code == "SL"
    assert customer.fiscal_type is not None and customer.fiscal_type.code == "sociedad_mercantil"
    assert customer.owner == owner
    assert customer.currency == "EUR"
    assert customer.version == 1
    # and the channels and the address are normalised
    phone, email = customer.channels.all()
    assert (phone.type, phone.value, phone.label) == ("phone", "+34600112233", "mobile")
    assert email.value == "Info@munoz.example"
    fiscal = customer.addresses.get()
    assert (fiscal.type, fiscal.postal_code, fiscal.region) == ("fiscal", "28013", "ES-M")
    assert services.invoice_missing(customer) == []


def test_customer_codes_follow_the_series(owner: User) -> None:
    # given a first customer
    first = make_customer(owner)

    # when two more are created
    second = make_lead(owner, "Segundo")
    third = make_lead(owner, "Tercero")

    # then their codes are consecutive in the series
    assert [first.code, second.code, third.code] == ["C-000001", "C-000002", "C-000003"]


@pytest.mark.parametrize(
    "query",
    ["munoz", "MUÑOZ asociados", "+34 600 11 22 33", "600112233", "B-1234567-4", "info@munoz"],
)
def test_search_finds_the_customer_however_it_is_typed(owner: User, query: str) -> None:
    # given the customer "Muñoz y Asociados SL" and another one
    customer = make_customer(owner)
    make_lead(owner, "Ferretería Gómez", channels=[{"type": "phone", "value": "911234567"}])

    # when searching
    found = list(Customer.objects.search(query))

    # then only that customer is found
    assert found == [customer]


def test_search_finds_the_customer_by_code(owner: User) -> None:
    # given two customers
    make_lead(owner, "Primero")
    second = make_lead(owner, "Segundo")

    # when searching by the second one's code
    found = list(Customer.objects.search(second.code))

    # then it is the only result
    assert found == [second]


def test_lead_needs_only_a_name_and_one_channel(owner: User) -> None:
    # given a name and an e-mail
    data = {
        "kind": "organization",
        "legal_name": "Talleres Ruiz",
        "stage": "lead",
        "channels": [{"type": "email", "value": "hola@ruiz.example"}],
    }

    # when created
    lead = services.create_customer(data=data, by=owner)

    # then it is a lead with that channel and nothing else
    lead.refresh_from_db()
    assert (lead.stage, lead.tax_id, lead.owner) == ("lead", "", owner)
    assert [c.value for c in lead.channels.all()] == ["hola@ruiz.example"]
    assert not lead.addresses.exists()


@pytest.mark.parametrize("channels", [None, []])
def test_lead_without_any_channel_is_refused(owner: User, channels: list | None) -> None:
    # given a lead with a name but no way to reach it
    data: dict[str, Any] = {"kind": "organization", "legal_name": "Sin Datos", "stage": "lead"}
    if channels is not None:
        data["channels"] = channels

    # when created
    error = _refused(data, owner)

    # then the channels are what is missing and nothing is written
    assert list(error.messages_by_field) == ["channels"]
    assert Customer.objects.count() == 0


def test_client_without_fiscal_address_is_refused(owner: User) -> None:
    # given a client whose only address is a shipping one
    shipping = {
        "type": "shipping",
        "street": "Calle Luna",
        "municipality": "Madrid",
        "country": "ES",
    }
    data = client_data(addresses=[shipping])

    # when created
    error = _refused(data, owner)

    # then the addresses are reported and nothing is written
    assert "addresses" in error.messages_by_field
    assert Customer.objects.count() == 0


def test_client_without_tax_id_is_refused(owner: User) -> None:
    # given a client with every fiscal field but the tax id
    data = client_data(tax_id="")

    # when created
    error = _refused(data, owner)

    # then the tax id is reported
    assert list(error.messages_by_field) == ["tax_id"]


def test_invalid_tax_id_is_refused_with_a_reason(owner: User) -> None:
    # given a CIF with a wrong check digit
    data = client_data(tax_id="B12345675")

    # when created
    error = _refused(data, owner)

    # then the tax id is reported with a reason and nothing is written
    assert list(error.messages_by_field) == ["tax_id"]
    assert error.messages_by_field["tax_id"][0].strip()
    assert Customer.objects.count() == 0


def test_without_a_kind_a_refused_tax_id_is_the_only_error(owner: User) -> None:
    # given a client without a kind, whose kind a valid tax id would give
    without_kind = client_data(tax_id="B12345675")
    without_kind.pop("kind")

    # when created with a wrong tax id, then with a tax id of a country that does not exist
    wrong = _refused(without_kind, owner)
    no_country = _refused({**without_kind, "tax_id": CIF_SL, "tax_country": "XX"}, owner)

    # then the tax id, or its country, is the only error: not also "the kind is required"
    assert list(wrong.messages_by_field) == ["tax_id"]
    assert list(no_country.messages_by_field) == ["tax_country"]
    # and with no tax id at all the kind is required, as before
    lead = _refused({**without_kind, "tax_id": "", "stage": "lead"}, owner)
    assert list(lead.messages_by_field) == ["kind"]
    assert Customer.objects.count() == 0


def test_a_person_s_long_names_make_a_legal_name_the_register_holds(owner: User) -> None:
    # given a person whose first name and surnames are together longer than a legal name
    first, last = "María " * 16, "Fernández " * 14
    data = client_data(kind="person", legal_name="", first_name=first.strip(),
                       last_name=last.strip(), tax_id="", stage="lead",
                       fiscal_type=None)  # fmt: skip

    # when created, then the legal name is the names cut to its length, and nothing refused
    customer = make_customer(owner, **data)
    assert len(first.strip() + " " + last.strip()) > 200
    assert customer.legal_name == (first.strip() + " " + last.strip())[:200]


def test_duplicate_tax_id_in_the_same_country_points_to_the_first_customer(
    owner: User, teammate: User
) -> None:
    # given a customer with a CIF
    first = make_customer(owner)

    # when someone creates another customer with the same CIF written differently
    error = _refused(client_data(legal_name="Otra SL", tax_id="b-1234567-4"), teammate)

    # then it is refused as a duplicate of the first one
    assert list(error.messages_by_field) == ["tax_id"]
    assert first.code in error.messages_by_field["tax_id"][0]
    assert error.duplicate == first
    assert Customer.objects.count() == 1


def test_the_same_number_in_another_country_is_not_a_duplicate(owner: User) -> None:
    # given a Spanish customer with a CIF
    spanish = make_customer(owner)

    # when a Japanese customer with the same characters as its tax id is created
    japanese = make_lead(owner, "Tanaka KK", tax_country="JP", tax_id=CIF_SL)

    # then both exist: tax ids are unique per country
    assert spanish.tax_id == japanese.tax_id == CIF_SL
    assert sorted(Customer.objects.values_list("tax_country", flat=True)) == ["ES", "JP"]


def test_tax_id_of_a_person_with_kind_organization_is_refused(owner: User) -> None:
    # given an organisation whose tax id is a DNI (a person's)
    data = client_data(tax_id=DNI)

    # when created
    error = _refused(data, owner)

    # then the tax id is reported as belonging to a person
    assert list(error.messages_by_field) == ["tax_id"]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"channels": [{"type": "phone", "value": "12"}]}, "channels.0.value"),
        ({"channels": [{"type": "email", "value": "no-es-un-correo"}]}, "channels.0.value"),
        ({"channels": [{"type": "website", "value": "not a site"}]}, "channels.0.value"),
        ({"channels": [{"type": "fax", "value": "911234567"}]}, "channels.0.type"),
        ({"postal_code": "2801"}, "addresses.0.postal_code"),
        ({"region": "MX-CMX"}, "addresses.0.region"),
        ({"region": "ES-B"}, "addresses.0.postal_code"),
        ({"country": "XX"}, "addresses.0.country"),
    ],
)
def test_bad_channel_or_address_is_refused_naming_the_field(
    owner: User, overrides: dict[str, Any], key: str
) -> None:
    # given a client with one bad channel or address field
    data = client_data()
    if "channels" in overrides:
        data["channels"] = overrides["channels"]
    else:
        data["addresses"] = [{**data["addresses"][0], **overrides}]

    # when created
    error = _refused(data, owner)

    # then the error names the exact field and nothing is written
    assert key in error.messages_by_field
    assert Customer.objects.count() == 0


def test_suspended_customer_needs_a_reason(owner: User) -> None:
    # given a suspended client without and with a reason
    without = client_data(status="suspended")
    with_reason = client_data(status="suspended", status_reason="Impago de tres facturas")

    # when created
    error = _refused(without, owner)
    customer = services.create_customer(data=with_reason, by=owner)

    # then only the one that says why is saved
    assert list(error.messages_by_field) == ["status_reason"]
    customer.refresh_from_db()
    assert (customer.status, customer.status_reason) == ("suspended", "Impago de tres facturas")


def test_fiscal_type_of_another_kind_is_refused(owner: User) -> None:
    # given an organisation typed as a private individual
    data = client_data(fiscal_type=FiscalType.objects.get(code="particular"))

    # when created
    error = _refused(data, owner)

    # then the fiscal type is reported
    assert "fiscal_type" in error.messages_by_field


def test_read_only_user_cannot_create(reader: User) -> None:
    # given a read-only user, when they try to create a lead
    with pytest.raises(PermissionDenied):
        make_lead(reader)

    # then nothing is written
    assert Customer.objects.count() == 0


def test_salesperson_cannot_create_a_customer_for_someone_else(owner: User, teammate: User) -> None:
    # given a salesperson creating a customer owned by a colleague
    data = client_data(owner=teammate)

    # when created
    error = _refused(data, owner)

    # then the owner is refused
    assert list(error.messages_by_field) == ["owner"]


# --- Updating --------------------------------------------------------------------------


def test_update_replaces_channels_keeping_ids(owner: User) -> None:
    # given a customer with a phone and an e-mail
    customer = make_customer(owner)
    phone, email = customer.channels.all()

    # when the phone is kept, the e-mail dropped and a website added
    channels = [
        {"id": phone.pk, "type": "phone", "value": "+34 600 99 88 77"},
        {"type": "website", "value": "munoz.example"},
    ]
    updated = services.update_customer(customer=customer, data={"channels": channels}, by=owner)

    # then the phone keeps its id, the e-mail is gone, and the version went up
    after = list(updated.channels.all())
    assert [(c.type, c.value) for c in after] == [
        ("phone", "+34600998877"),
        ("website", "https://munoz.example"),
    ]
    assert after[0].pk == phone.pk
    assert not ContactChannel.objects.filter(pk=email.pk).exists()
    customer.refresh_from_db()
    assert customer.version == 2
    assert customer.updated_by == owner
    # and the search follows the new data
    assert list(Customer.objects.search("600998877")) == [customer]
    assert list(Customer.objects.search("info@munoz")) == []


def test_update_refuses_a_channel_of_another_customer(owner: User) -> None:
    # given two customers
    customer = make_customer(owner)
    other = make_lead(owner, "Otro")
    foreign = other.channels.get()
    original = foreign.value

    # when one is updated with the other's channel id
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(
            customer=customer,
            data={"channels": [{"id": foreign.pk, "type": "email", "value": "a@b.example"}]},
            by=owner,
        )

    # then it is refused and the other's channel is untouched
    assert "channels.0.id" in caught.value.messages_by_field
    foreign.refresh_from_db()
    assert (foreign.customer, foreign.value) == (other, original)
    assert customer.channels.count() == 2


def test_update_to_a_tax_id_of_another_customer_is_refused(owner: User) -> None:
    # given two customers with different CIFs
    first = make_customer(owner)
    second = make_customer(owner, legal_name="Otra SL", tax_id=valid_cif(7654321))

    # when the second is changed to the first one's CIF
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(customer=second, data={"tax_id": CIF_SL}, by=owner)

    # then it is refused as a duplicate and keeps its own CIF
    assert caught.value.duplicate == first
    second.refresh_from_db()
    assert second.tax_id == valid_cif(7654321)


def test_update_with_a_stale_version_is_refused(owner: User, teammate: User) -> None:
    # given a customer read at version 1 and then changed by a teammate
    customer = make_customer(owner)
    services.update_customer(customer=customer, data={"notes": "Llamar por la tarde"}, by=teammate)

    # when the owner saves what they read at version 1
    with pytest.raises(services.VersionConflict):
        services.update_customer(
            customer=customer, data={"notes": "Llamar por la mañana"}, by=owner, version=1
        )

    # then the teammate's change stays
    customer.refresh_from_db()
    assert (customer.notes, customer.version) == ("Llamar por la tarde", 2)


def test_update_with_the_current_version_bumps_it(owner: User) -> None:
    # given a customer at version 1
    customer = make_customer(owner)

    # when updated twice, each time with the version read
    services.update_customer(customer=customer, data={"follow_up": True}, by=owner, version=1)
    services.update_customer(customer=customer, data={"trade_name": "Muñoz"}, by=owner, version=2)

    # then both changes are saved and the version is 3
    customer.refresh_from_db()
    assert (customer.follow_up, customer.trade_name, customer.version) == (True, "Muñoz", 3)


def test_update_cannot_remove_a_clients_fiscal_address(owner: User) -> None:
    # given a client
    customer = make_customer(owner)

    # when its addresses are emptied
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(customer=customer, data={"addresses": []}, by=owner)

    # then it is refused and the address stays
    assert "addresses" in caught.value.messages_by_field
    assert customer.addresses.count() == 1


def test_stage_cannot_go_from_client_back_to_lead(owner: User) -> None:
    # given a client
    customer = make_customer(owner)

    # when it is moved back to lead
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(customer=customer, data={"stage": "lead"}, by=owner)

    # then the stage is refused and stays
    assert "stage" in caught.value.messages_by_field
    customer.refresh_from_db()
    assert customer.stage == "client"


def test_salesperson_cannot_give_a_customer_to_someone_else(owner: User, teammate: User) -> None:
    # given the owner's customer
    customer = make_customer(owner)

    # when the owner gives it to a teammate
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(customer=customer, data={"owner": teammate}, by=owner)

    # then it is refused on the owner field and nothing changes
    assert list(caught.value.messages_by_field) == ["owner"]
    customer.refresh_from_db()
    assert (customer.owner, customer.version) == (owner, 1)


def test_manager_can_give_a_customer_to_someone_else(
    owner: User, teammate: User, manager: User
) -> None:
    # given the owner's customer
    customer = make_customer(owner)

    # when a manager gives it to the teammate
    services.update_customer(customer=customer, data={"owner": teammate}, by=manager)

    # then the teammate owns it
    customer.refresh_from_db()
    assert (customer.owner, customer.updated_by) == (teammate, manager)


def test_read_only_user_cannot_own_customers(owner: User, manager: User, reader: User) -> None:
    # given a customer
    customer = make_customer(owner)

    # when a manager gives it to a read-only user
    with pytest.raises(CustomerInvalid) as caught:
        services.update_customer(customer=customer, data={"owner": reader}, by=manager)

    # then it is refused
    assert list(caught.value.messages_by_field) == ["owner"]


def test_read_only_user_cannot_update(owner: User, reader: User) -> None:
    # given a customer
    customer = make_customer(owner)

    # when a read-only user changes it
    with pytest.raises(PermissionDenied):
        services.update_customer(customer=customer, data={"notes": "x"}, by=reader)

    # then nothing changes
    customer.refresh_from_db()
    assert (customer.notes, customer.version) == ("", 1)


def test_salesperson_of_another_team_cannot_update(owner: User, outsider: User) -> None:
    # given the owner's customer
    customer = make_customer(owner)

    # when a salesperson of another team changes it
    with pytest.raises(PermissionDenied):
        services.update_customer(customer=customer, data={"notes": "x"}, by=outsider)

    # then nothing changes
    customer.refresh_from_db()
    assert customer.notes == ""


# --- Archiving ---------------------------------------------------------------------------


def test_archive_and_restore(owner: User) -> None:
    # given a customer in the current portfolio
    customer = make_customer(owner)
    assert list(Customer.objects.current()) == [customer]

    # when archived
    services.archive_customer(customer=customer, by=owner)

    # then it leaves the current customers but still exists
    customer.refresh_from_db()
    assert customer.archived_at is not None
    assert list(Customer.objects.current()) == []
    assert list(Customer.objects.archived()) == [customer]

    # when restored
    services.restore_customer(customer=customer, by=owner)

    # then it is back
    customer.refresh_from_db()
    assert customer.archived_at is None
    assert list(Customer.objects.current()) == [customer]


def test_outsider_cannot_archive(owner: User, outsider: User) -> None:
    # given the owner's customer
    customer = make_customer(owner)

    # when a salesperson of another team archives it
    with pytest.raises(PermissionDenied):
        services.archive_customer(customer=customer, by=outsider)

    # then it is still current
    customer.refresh_from_db()
    assert customer.archived_at is None


# --- Custom fields ---------------------------------------------------------------------


@pytest.fixture
def custom_fields(db: Any) -> list[CustomField]:
    """One custom field of each type; the text one is required."""
    return [
        CustomField.objects.create(label="Referencia", key="ref", required=True),
        CustomField.objects.create(
            label="Empleados", key="empleados", field_type=CustomFieldType.NUMBER
        ),
        CustomField.objects.create(label="Alta", key="alta", field_type=CustomFieldType.DATE),
        CustomField.objects.create(
            label="Nivel", key="nivel", field_type=CustomFieldType.CHOICE, choices="Oro\nPlata\n"
        ),
        CustomField.objects.create(
            label="Boletín", key="boletin", field_type=CustomFieldType.BOOLEAN
        ),
    ]


def test_custom_values_are_stored_normalised(owner: User, custom_fields: list) -> None:
    # given a value for every custom field, typed loosely
    values = {
        "ref": "  R-17  ",
        "empleados": "12,5",
        "alta": datetime.date(2026, 3, 1),
        "nivel": "Oro",
        "boletin": "sí",
    }

    # when a customer is created with them
    customer = make_customer(owner, custom_data=values)

    # then they are stored in one canonical form
    customer.refresh_from_db()
    assert customer.custom_data == {
        "ref": "R-17",
        "empleados": "12.5",
        "alta": "2026-03-01",
        "nivel": "Oro",
        "boletin": True,
    }


@pytest.mark.parametrize(
    "number", ["1e400", "-1e15", "1e-16", "1" * 31, "0." + "1" * 31, "Infinity", "NaN"]
)
def test_custom_numbers_beyond_what_a_report_shows_are_refused(
    owner: User, custom_fields: list, number: str
) -> None:
    # given a number custom field given an enormous, tiny, over-long or endless number
    data = client_data(custom_data={"ref": "R-1", "empleados": number})

    # when created, then the field is named and nothing is written
    error = _refused(data, owner)
    assert error.messages_by_field == {"custom_data.empleados": [
        "Introduce un número de como máximo 15 cifras antes de la coma decimal y 30 en total."
    ]}  # fmt: skip
    assert Customer.objects.count() == 0
    # while the largest and the smallest it keeps are accepted
    data = client_data(custom_data={"ref": "R-1", "empleados": "999999999999999.5"})
    assert make_customer(owner, **data).custom_data["empleados"] == "999999999999999.5"


def test_required_custom_field_missing_is_refused(owner: User, custom_fields: list) -> None:
    # given custom data without the required reference
    data = client_data(custom_data={"nivel": "Plata"})

    # when created
    error = _refused(data, owner)

    # then the required field is named
    assert list(error.messages_by_field) == ["custom_data.ref"]
    assert Customer.objects.count() == 0


def test_required_custom_field_is_needed_even_without_custom_data(
    owner: User, custom_fields: list
) -> None:
    # given a new client with no custom data at all while a custom field is required
    data = client_data()

    # when created
    error = _refused(data, owner)

    # then the required field is named
    assert "custom_data.ref" in error.messages_by_field


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("empleados", "muchos"),
        ("empleados", "NaN"),
        ("alta", "31/02/2026"),
        ("nivel", "Bronce"),
        ("boletin", "quizá"),
        ("desconocido", "x"),
    ],
)
def test_wrong_custom_value_is_refused(
    owner: User, custom_fields: list, key: str, value: str
) -> None:
    # given one custom value of the wrong type (or for no field)
    data = client_data(custom_data={"ref": "R-1", key: value})

    # when created
    error = _refused(data, owner)

    # then that custom field is named and nothing is written
    assert list(error.messages_by_field) == [f"custom_data.{key}"]
    assert Customer.objects.count() == 0
