"""The bulk demo loader: rows written without the services must be as valid as theirs."""

from __future__ import annotations

import random
import re
from io import StringIO
from typing import Any

import phonenumbers
import pytest
from django.core.management import call_command

from cartera.accounts.models import User
from cartera.core.countries import COUNTRY_CURRENCY, is_region_of
from cartera.core.models import Sequence
from cartera.core.phones import is_mobile
from cartera.core.postal import postal_code_error, region_for_postal_code
from cartera.core.text import sort_key
from cartera.customers import services
from cartera.customers.demo import COUNTRIES, fill
from cartera.customers.demo.bulk import bulk_load
from cartera.customers.demo.drawing import NumberTypes, PhoneMaker, compile_template
from cartera.customers.fiscal import check_tax_id
from cartera.customers.models import Address, Contact, ContactChannel, Customer, Stage
from cartera.customers.services import CUSTOMER_CODE_SERIES, invoice_missing
from tests.conftest import client_data, valid_cif


@pytest.fixture
def loaded(db: Any) -> list[Customer]:
    summary = bulk_load(customers=300, seed=3, batch=100)
    assert summary.customers == 300
    return list(
        Customer.objects.prefetch_related("channels", "addresses", "contacts", "tags").order_by(
            "id"
        )
    )


def test_bulk_load_writes_the_customers_their_channels_and_addresses(
    loaded: list[Customer],
) -> None:
    # then
    assert len(loaded) == Customer.objects.count() == 300
    assert ContactChannel.objects.count() == 600
    assert Address.objects.filter(type="fiscal").count() == 300
    assert 0 < Contact.objects.count() < 150
    assert {c.stage for c in loaded} == set(Stage.values)
    assert {c.tax_country for c in loaded} == set(COUNTRIES)
    assert {c.status for c in loaded} == {"active", "inactive", "suspended"}
    assert len({c.owner_id for c in loaded}) >= 6
    assert any(c.group_id for c in loaded) and any(c.tags.all() for c in loaded)
    assert all(c.currency == COUNTRY_CURRENCY[c.tax_country] for c in loaded)
    assert len({c.created_at.date() for c in loaded}) > 100  # spread over two years


def test_bulk_tax_ids_are_valid_compact_and_unique(loaded: list[Customer]) -> None:
    with_tax_id = [c for c in loaded if c.tax_id]
    assert len(with_tax_id) > 150
    for customer in with_tax_id:
        result = check_tax_id(customer.tax_id, customer.tax_country)
        assert result.valid, (customer.tax_id, customer.tax_country, result.reason)
        assert result.compact == customer.tax_id
        assert result.tax_id_type == customer.tax_id_type
        assert result.kind in (None, customer.kind)
        if result.legal_form:  # a Spanish CIF names the legal form
            assert customer.legal_form is not None
            assert customer.legal_form.code == result.legal_form
    assert len({(c.tax_country, c.tax_id) for c in with_tax_id}) == len(with_tax_id)
    assert all(not c.tax_id_type for c in loaded if not c.tax_id)


def test_bulk_phones_are_e164_valid_and_labelled_like_the_services(
    loaded: list[Customer],
) -> None:
    channels = [ch for c in loaded for ch in c.channels.all()]
    phones = [ch for ch in channels if ch.type == "phone"]
    assert len(phones) == 300
    for channel in phones:
        number = phonenumbers.parse(channel.value, None)
        assert phonenumbers.is_valid_number(number), channel.value
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == (
            channel.value
        )
        mobile = is_mobile(channel.value)
        assert channel.label == ("" if mobile is None else "mobile" if mobile else "landline")
    contact_phones = [
        p for c in loaded for contact in c.contacts.all() for p in (contact.phone, contact.mobile)
    ]
    for value in filter(None, contact_phones):
        assert phonenumbers.is_valid_number(phonenumbers.parse(value, None)), value
    primaries = [ch for ch in channels if ch.is_primary]
    assert len(primaries) == 300 and all(ch.position == 0 for ch in primaries)


def test_bulk_addresses_have_regions_of_their_country(loaded: list[Customer]) -> None:
    for customer in loaded:
        (address,) = customer.addresses.all()
        assert address.country == customer.tax_country
        assert postal_code_error(address.postal_code, address.country) is None
        assert is_region_of(address.region, address.country), address.region
        if address.country == "ES":
            assert address.region == region_for_postal_code(address.postal_code, "ES")


def test_bulk_clients_are_invoiceable(loaded: list[Customer]) -> None:
    clients = [c for c in loaded if c.stage == Stage.CLIENT]
    assert len(clients) > 80
    assert {c.code: invoice_missing(c) for c in clients if invoice_missing(c)} == {}
    suspended = [c for c in loaded if c.status == "suspended"]
    assert all(c.status_reason for c in suspended)
    assert all(c.loss_reason for c in loaded if c.stage in ("lost", "former"))


def test_bulk_search_text_is_what_the_model_computes(loaded: list[Customer]) -> None:
    # given: every customer, not a sample: the prefetch makes it cheap
    # then
    mismatches = {c.code: c.search_text for c in loaded if c.search_text != c.build_search_text()}
    assert mismatches == {}
    # and so is the name the list sorts by
    unsorted = [c.code for c in loaded if c.sort_name != sort_key(c.trade_name or c.legal_name)]
    assert unsorted == []
    assert any(c.trade_name for c in loaded)  # the trade name goes first where there is one
    assert any(c.contacts.all() for c in loaded)  # contacts' names are part of it


def test_bulk_customers_are_found_by_the_search_index(loaded: list[Customer]) -> None:
    # given
    person = next(c for c in loaded if c.kind == "person" and len(c.last_name.split()[0]) > 3)
    surname = person.last_name.split()[0]
    phone = next(ch.value for ch in person.channels.all() if ch.type == "phone")

    # then
    assert person in Customer.objects.search(surname)
    assert person in Customer.objects.search(phone[-7:])
    assert person in Customer.objects.search(person.code)
    with_id = next(c for c in loaded if c.tax_id and not c.tax_id.isdigit())
    assert list(Customer.objects.search(with_id.tax_id)) == [with_id]


def test_bulk_codes_come_from_the_series_which_continues_after_them(
    loaded: list[Customer], manager: User
) -> None:
    # given
    codes = [c.code for c in loaded]
    assert len(set(codes)) == 300
    assert Sequence.objects.get(key=CUSTOMER_CODE_SERIES).next_value == 301

    # when
    created = services.create_customer(data=client_data(tax_id=valid_cif(4242)), by=manager)

    # then
    assert created.code == "C-000301"
    assert created.code not in codes


def test_a_second_bulk_load_skips_used_codes_and_tax_ids(db: Any, manager: User) -> None:
    # given: a customer created by hand with a code the series has not reached yet
    services.create_customer(data=client_data(code="C-000003"), by=manager)
    bulk_load(customers=40, seed=5, batch=15)

    # when: the same seed again draws the same tax ids first
    bulk_load(customers=40, seed=5, batch=15)

    # then
    rows = list(Customer.objects.values_list("code", "tax_country", "tax_id"))
    assert len(rows) == 81
    assert len({code for code, _c, _t in rows}) == 81
    ids = [(country, tax_id) for _code, country, tax_id in rows if tax_id]
    assert len(set(ids)) == len(ids)


def test_the_same_seed_gives_the_same_customers(db: Any) -> None:
    bulk_load(customers=30, seed=11)
    first = list(Customer.objects.order_by("id").values_list("legal_name", "tax_id"))
    Customer.objects.all().delete()

    bulk_load(customers=30, seed=11)

    assert list(Customer.objects.order_by("id").values_list("legal_name", "tax_id")) == first


def test_number_types_decide_like_phonenumbers() -> None:
    # given: numbers from every template of the demo, valid or not
    rng = random.Random(7)
    for code, spec in COUNTRIES.items():
        types = NumberTypes(code)
        templates = [
            *spec.mobiles,
            *(c.landline for c in spec.cities),
            *(c.mobile for c in spec.cities),
        ]
        for template in filter(None, templates):
            maker = PhoneMaker(template, code, types)
            for _ in range(150):
                national = maker.digits(rng)[maker.skip :]
                if national[0] == "0":
                    continue
                number = phonenumbers.PhoneNumber(
                    country_code=phonenumbers.country_code_for_region(code),
                    national_number=int(national),
                )
                # then
                kind = phonenumbers.number_type(number)
                expected = {
                    phonenumbers.PhoneNumberType.UNKNOWN: None,
                    phonenumbers.PhoneNumberType.MOBILE: "mobile",
                    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
                }.get(kind, "")
                assert types.label(national) == expected, (template, national)


def _shape(template: str) -> re.Pattern[str]:
    """What ``fill`` can write from a template, as a regular expression."""

    def token(match: re.Match[str]) -> str:
        text, body = match.group(0), match.group(1)
        if text == "#":
            return r"\d"
        if text == "@":
            return "[A-Z]"
        if body is None:
            return re.escape(text)
        if "|" in body:
            return "(?:" + "|".join(map(re.escape, body.split("|"))) + ")"
        return rf"\d{{{len(body.split('-')[0])},}}"

    return re.compile(re.sub(r"\{([^{}]+)\}|#|@|.", token, template))


def test_compiled_templates_write_what_fill_writes() -> None:
    templates = {t for spec in COUNTRIES.values() for city in spec.cities for t in city.postal}
    templates |= {t for spec in COUNTRIES.values() for t in (spec.exterior, *spec.interiors)}
    for template in templates:
        draw, shape = compile_template(template), _shape(template)
        assert shape.fullmatch(fill(template, random.Random(1)))
        for seed in range(20):
            text = draw(random.Random(seed))
            assert shape.fullmatch(text), (template, text)
            assert draw(random.Random(seed)) == text  # the same seed, the same text


def test_demo_command_uses_the_bulk_loader_above_two_thousand(db: Any) -> None:
    out = StringIO()
    call_command("demo", customers=2001, seed=1, stdout=out)
    assert Customer.objects.count() == 2001
    assert "Carga masiva" in out.getvalue()
    assert "C-002001" in out.getvalue()
    # the last line, which bench/run.py reads: seconds as Spanish writes them, phases by name
    assert re.search(r"Tiempo total: \d+,\d s \(generate \d+,\d s; write \d+,\d s", out.getvalue())
