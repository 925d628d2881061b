"""The demo loader: realistic, valid and repeatable data, created through the services."""

from __future__ import annotations

import datetime
import random
from io import StringIO
from typing import Any

import phonenumbers
from django.core.management import call_command
from django.utils import timezone

from cartera.accounts.models import Role, User
from cartera.core.countries import is_region_of
from cartera.core.postal import postal_code_error, region_for_postal_code
from cartera.customers.demo import COUNTRIES, fill, generate_customers, load_demo
from cartera.customers.fiscal import check_tax_id
from cartera.customers.models import (
    Address,
    ChannelType,
    Contact,
    ContactChannel,
    Customer,
    CustomerGroup,
    Kind,
    Stage,
    Status,
)
from cartera.customers.services import invoice_missing


def test_load_demo_creates_valid_customers_in_every_country_and_stage(db: Any) -> None:
    summary = load_demo(customers=60, seed=1)

    customers = list(Customer.objects.prefetch_related("addresses"))
    assert len(customers) == 60 == summary.customers
    assert {c.stage for c in customers} == set(Stage.values)
    assert {c.tax_country for c in customers} == set(COUNTRIES)
    assert {c.kind for c in customers} == set(Kind.values)

    clients = [c for c in customers if c.stage == Stage.CLIENT]
    assert clients
    assert {c.code: invoice_missing(c) for c in clients if invoice_missing(c)} == {}

    with_tax_id = [c for c in customers if c.tax_id]
    assert len(with_tax_id) >= len(clients)
    for customer in with_tax_id:
        result = check_tax_id(customer.tax_id, customer.tax_country)
        assert result.valid, (customer.tax_id, customer.tax_country, result.reason)
        assert result.compact == customer.tax_id
        assert result.kind in (None, customer.kind)
    assert len({(c.tax_country, c.tax_id) for c in with_tax_id}) == len(with_tax_id)

    suspended = [c for c in customers if c.status == Status.SUSPENDED]
    assert all(c.status_reason for c in suspended)
    lost = [c for c in customers if c.stage in (Stage.LOST, Stage.FORMER)]
    assert all(c.loss_reason for c in lost)


def test_demo_channels_addresses_and_dates_are_realistic(db: Any) -> None:
    load_demo(customers=60, seed=1)

    phones = list(
        ContactChannel.objects.filter(type=ChannelType.PHONE).values_list("value", flat=True)
    )
    phones += [p for p in Contact.objects.values_list("phone", flat=True) if p]
    phones += [m for m in Contact.objects.values_list("mobile", flat=True) if m]
    assert phones
    for value in phones:
        assert value.startswith("+"), value
        assert phonenumbers.is_valid_number(phonenumbers.parse(value, None)), value

    addresses = list(Address.objects.all())
    assert addresses
    for address in addresses:
        assert postal_code_error(address.postal_code, address.country) is None
        assert is_region_of(address.region, address.country), address.region
        if address.country == "ES":
            assert address.region == region_for_postal_code(address.postal_code, "ES")
    assert any(a.neighbourhood for a in addresses if a.country == "MX")

    now = timezone.now()
    overdue = Customer.objects.filter(reviewed_at__lt=now - datetime.timedelta(days=183))
    assert 0 < overdue.count() < 30
    assert Customer.objects.filter(created_at__lt=now - datetime.timedelta(days=365)).exists()
    assert not Customer.objects.filter(created_at__gt=now).exists()
    assert all(c.reviewed_at >= c.created_at for c in Customer.objects.all())


def test_demo_users_teams_and_groups(db: Any) -> None:
    summary = load_demo(customers=10, seed=3)

    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.check_password("admin")
    manager = User.objects.get(username="gerente")
    assert manager.role == Role.MANAGER and manager.check_password("demo-cartera")
    lucia = User.objects.get(username="lucia")
    assert lucia.role == Role.SALESPERSON and lucia.team is not None
    assert lucia.first_name == "Lucía" and lucia.check_password("demo-cartera")
    assert "admin" in summary.users_created
    assert CustomerGroup.objects.get(name="Mayorista").payment_terms_days == 60
    owners = set(Customer.objects.values_list("owner__role", flat=True))
    assert owners <= {Role.SALESPERSON, Role.MANAGER}

    # A second load adds customers but neither duplicates users nor resets their passwords.
    lucia.set_password("otra-clave-larga")
    lucia.save()
    again = load_demo(customers=10, seed=3)
    assert again.users_created == []
    assert Customer.objects.count() == 20
    assert User.objects.filter(username="lucia").get().check_password("otra-clave-larga")


def test_same_seed_gives_the_same_customers() -> None:
    first = generate_customers(40, seed=7)
    second = generate_customers(40, seed=7)
    other = generate_customers(40, seed=8)

    assert [p.data for p in first] == [p.data for p in second]
    names = [p.data.get("legal_name") or p.data["last_name"] for p in first]
    assert names == [p.data.get("legal_name") or p.data["last_name"] for p in second]
    assert names != [p.data.get("legal_name") or p.data["last_name"] for p in other]


def test_country_tables_are_consistent() -> None:
    for code, spec in COUNTRIES.items():
        assert spec.code == code
        for city in spec.cities:
            assert not city.region or is_region_of(city.region, code), city
            for template in city.postal:
                postal = fill(template, random.Random(0))
                assert postal_code_error(postal, code) is None, (city.name, postal)


def test_command_if_empty_loads_only_once(db: Any) -> None:
    out = StringIO()
    call_command("demo", "--customers", "5", "--if-empty", stdout=out)
    assert Customer.objects.count() == 5
    assert "admin" in out.getvalue()

    out = StringIO()
    call_command("demo", "--customers", "5", "--if-empty", stdout=out)
    assert Customer.objects.count() == 5
    assert "Ya hay clientes" in out.getvalue()


def test_command_speaks_the_active_language(db: Any) -> None:
    # given a register without customers
    from django.utils import translation

    # when the demo is loaded in English, then loaded again in Spanish
    with translation.override("en"):
        english = StringIO()
        call_command("demo", "--customers", "5", stdout=english)
    with translation.override("es"):
        spanish = StringIO()
        call_command("demo", "--customers", "5", "--if-empty", stdout=spanish)

    # then each says what it did in its language, the table's stages and countries too
    assert "Demo data loaded: 5 customers." in english.getvalue()
    assert "Country" in english.getvalue() and "Former client" in english.getvalue()
    assert "Spain" in english.getvalue()
    assert "password “demo-cartera”" in english.getvalue()
    assert "Ya hay clientes: no se cargan datos de demostración." in spanish.getvalue()
    assert Customer.objects.count() == 5
