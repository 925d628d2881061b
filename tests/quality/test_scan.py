"""The duplicate scan: each kind of evidence, blocking, and rescans that keep decisions."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from cartera.accounts.models import User
from cartera.customers.models import Address, Customer
from cartera.customers.services import archive_customer
from cartera.quality import scan
from cartera.quality.models import DuplicatePair, PairStatus
from cartera.quality.scan import (
    clean_name,
    email_key,
    read_register,
    scan_duplicates,
    tax_key,
)
from cartera.quality.services import dismiss_pair
from tests.conftest import make_customer, make_lead, valid_cif

pytestmark = pytest.mark.django_db


def address(postal_code: str = "28013", municipality: str = "Madrid", **extra: Any) -> dict:
    return {
        "type": "fiscal",
        "street": "Calle Mayor",
        "exterior_number": "1",
        "postal_code": postal_code,
        "municipality": municipality,
        "country": "ES",
        **extra,
    }


def company(by: User, n: int, name: str, *, postal: str = "28013", **extra: Any) -> Customer:
    """An invoiceable company with its own tax id, phone and e-mail unless told otherwise."""
    data: dict[str, Any] = {
        "legal_name": name,
        "tax_id": valid_cif(n),
        "channels": [
            {"type": "phone", "value": f"+34 910 {n:06d}"[:16]},
            {"type": "email", "value": f"c{n}@empresa{n}.example"},
        ],
        "addresses": [address(postal)],
    }
    data.update(extra)
    return make_customer(by, **data)


def typed_again(by: User, n: int, name: str, *, postal: str = "28013", **extra: Any) -> Customer:
    """A company typed again as a lead, without its tax id, with channels of its own."""
    return company(by, n, name, postal=postal, tax_id="", stage="lead", **extra)


def pair_of(a: Customer, b: Customer) -> DuplicatePair | None:
    low, high = sorted([a.pk, b.pk])
    return DuplicatePair.objects.filter(customer_a_id=low, customer_b_id=high).first()


def kinds(pair: DuplicatePair | None) -> set[str]:
    assert pair is not None
    return set(pair.reason_kinds())


def test_normalisation() -> None:
    assert clean_name("Muñoz y Asociados, S.L.") == "munoz asociados"
    assert clean_name("MUÑOZ ASOCIADOS SOCIEDAD LIMITADA") == "munoz asociados"
    assert clean_name("Transportes del Norte SA de CV") == "transportes norte"
    assert email_key("  Ana.Lopez+crm@GoogleMail.com ") == "analopez@gmail.com"
    assert email_key("Ana.Lopez@empresa.es") == "ana.lopez@empresa.es"
    assert email_key("no-at-sign") == ""
    assert tax_key("FR40303265045", "FR") == "40303265045"


def test_same_email_is_found(owner: User) -> None:
    # given two companies in different cities with one mailbox written two ways
    a = company(owner, 1, "Alfa Consultores", postal="28013")
    b = company(
        owner,
        2,
        "Beta Servicios",
        postal="08001",
        channels=[{"type": "email", "value": "C1@Empresa1.example "}],
        addresses=[address("08001", "Barcelona")],
    )
    # when
    result = scan_duplicates()
    # then
    assert result.found == 1
    assert kinds(pair_of(a, b)) == {"email"}


def test_gmail_dots_and_tags_are_the_same_mailbox(owner: User) -> None:
    a = make_lead(owner, "Ana López", channels=[{"type": "email", "value": "ana.lopez@gmail.com"}])
    b = make_lead(owner, "Ana L.", channels=[{"type": "email", "value": "analopez+web@gmail.com"}])
    scan_duplicates()
    pair = pair_of(a, b)
    assert kinds(pair) == {"email"}
    assert pair is not None and pair.reasons[0]["value"] == "analopez@gmail.com"


def test_same_phone_is_found(owner: User) -> None:
    a = make_lead(
        owner, "Talleres Pérez", channels=[{"type": "phone", "value": "+34 600 11 22 33"}]
    )
    b = make_lead(owner, "Pérez Motor", channels=[{"type": "phone", "value": "600112233"}])
    scan_duplicates()
    assert kinds(pair_of(a, b)) == {"phone"}


def test_similar_names_in_one_postal_code(owner: User) -> None:
    # given the same company twice in 28013 and an unrelated one next door
    a = company(owner, 1, "Muñoz y Asociados SL")
    b = typed_again(owner, 2, "Munoz Asociados, S.L.")
    unrelated = company(owner, 3, "Ferretería Central SL")
    # when
    scan_duplicates()
    # then
    pair = pair_of(a, b)
    assert kinds(pair) == {"name"}
    assert pair is not None and pair.reasons[0]["similarity"] == 100
    assert pair_of(a, unrelated) is None and pair_of(b, unrelated) is None
    assert DuplicatePair.objects.count() == 1


def test_similar_names_in_other_postal_codes_are_not_compared(owner: User) -> None:
    # blocking: the same name in Madrid and in Sevilla is two companies until shown otherwise
    a = company(owner, 1, "Muñoz y Asociados SL", postal="28013")
    b = company(owner, 2, "Muñoz y Asociados SL", addresses=[address("41001", "Sevilla")])
    register = read_register()
    assert register.blocks[("ES", "cp:28013")] == [a.pk]
    assert register.blocks[("ES", "cp:41001")] == [b.pk]
    scan_duplicates()
    assert pair_of(a, b) is None


def test_municipality_blocks_customers_without_postal_code(owner: User) -> None:
    lead = {"stage": "lead", "channels": [{"type": "email", "value": "x@y.example"}]}
    a = make_lead(
        owner,
        "Panadería Sol",
        addresses=[{"type": "other", "municipality": "Lima", "country": "PE"}],
    )
    b = make_lead(
        owner,
        "Panaderia El Sol",
        addresses=[{"type": "other", "municipality": "LIMA ", "country": "PE"}],
    )
    del lead
    scan_duplicates()
    assert "name" in kinds(pair_of(a, b))


def test_same_tax_id_in_another_country(owner: User) -> None:
    # The register refuses one id twice in a country; the same digits under two countries
    # (a Spanish company entered once as French VAT, say) is what is left to find.
    a = company(owner, 1, "Gamma Ingeniería SL")
    b = make_lead(owner, "Lusitana de Obras", channels=[{"type": "email", "value": "g@g.example"}])
    Customer.objects.filter(pk=b.pk).update(tax_id=a.tax_id, tax_country="PT")
    scan_duplicates()
    assert kinds(pair_of(a, b)) == {"tax_id"}


def test_evidence_adds_up(owner: User) -> None:
    a = company(owner, 1, "Delta Logística SL")
    b = company(
        owner, 2, "Delta Logistica", channels=[{"type": "email", "value": "c1@empresa1.example"}]
    )
    c = company(
        owner,
        3,
        "Omega Textil",
        channels=[{"type": "email", "value": "c1@empresa1.example"}],
        addresses=[address("08001", "Barcelona")],
    )
    scan_duplicates()
    strong, weak = pair_of(a, b), pair_of(a, c)
    assert strong is not None and weak is not None
    assert kinds(strong) == {"email", "name"} and kinds(weak) == {"email"}
    assert strong.score > weak.score >= scan.MIN_SCORE
    assert next(iter(DuplicatePair.objects.values_list("pk", flat=True))) == strong.pk


def test_a_shared_switchboard_is_no_evidence(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "MAX_GROUP", 2)
    for n in range(3):
        make_lead(
            owner,
            f"Empresa {n} del polígono",
            channels=[{"type": "phone", "value": "+34 910 000 000"}],
        )
    assert scan_duplicates().found == 0


def test_rescans_update_and_never_duplicate(owner: User) -> None:
    a = company(owner, 1, "Épsilon Reformas SL")
    b = typed_again(owner, 2, "Epsilon Reformas")
    first = scan_duplicates()
    pair = pair_of(a, b)
    assert first.created == 1 and pair is not None
    # when the same scan runs again, nothing changes
    again = scan_duplicates()
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert DuplicatePair.objects.count() == 1
    # when new evidence appears, the pair is updated in place
    Customer.objects.filter(pk=b.pk)
    b.channels.filter(type="email").update(value="c1@empresa1.example")
    third = scan_duplicates()
    assert third.updated == 1 and DuplicatePair.objects.count() == 1
    updated = pair_of(a, b)
    assert updated is not None and updated.pk == pair.pk and updated.score > pair.score
    assert updated.found_at == pair.found_at


def test_dismissed_pairs_stay_dismissed(owner: User) -> None:
    a = company(owner, 1, "Zeta Jardines SL")
    b = typed_again(owner, 2, "Zeta Jardines")
    scan_duplicates()
    pair = pair_of(a, b)
    assert pair is not None
    dismiss_pair(pair=pair, by=owner)
    b.channels.filter(type="phone").update(value=a.channels.get(type="phone").value)
    result = scan_duplicates()
    pair.refresh_from_db()
    assert pair.status == PairStatus.DISMISSED
    assert result.created == 0 and DuplicatePair.objects.count() == 1


def test_pairs_no_longer_found_leave_the_queue(owner: User) -> None:
    a = company(owner, 1, "Eta Pinturas SL")
    b = typed_again(owner, 2, "Eta Pinturas")
    scan_duplicates()
    assert pair_of(a, b) is not None
    archive_customer(customer=b, by=owner)  # archived customers are not scanned
    assert scan_duplicates().removed == 1
    assert pair_of(a, b) is None


def test_the_command_scans(owner: User, capsys: pytest.CaptureFixture[str]) -> None:
    company(owner, 1, "Theta Obras SL")
    typed_again(owner, 2, "Theta Obras")
    call_command("duplicates", "scan")
    # it says what it found in the default language, Spanish
    assert "1 posibles duplicados (1 nuevos" in capsys.readouterr().out
    assert DuplicatePair.objects.count() == 1
    # or in English
    with translation.override("en"):
        call_command("duplicates", "scan")
    assert "1 possible duplicates (0 new, 0 changed" in capsys.readouterr().out


# --- names that must not match, and the bounds that keep a scan short ----------------------


def numbered_companies(by: User, count: int, *, postal: str = "28013") -> list[Customer]:
    """``count`` companies "Empresa Prueba N SL" in one postal code, each with its own CIF."""
    customers = Customer.objects.bulk_create(
        Customer(
            code=f"EP{n:06d}",
            kind="organization",
            legal_name=f"Empresa Prueba {n} SL",
            tax_id=valid_cif(n),
            tax_id_type="es_cif",
            tax_country="ES",
            stage="client",
            owner=by,
        )
        for n in range(1, count + 1)
    )
    Address.objects.bulk_create(
        Address(customer=c, type="fiscal", postal_code=postal, municipality="Madrid", country="ES")
        for c in customers
    )
    return customers


def test_numbered_companies_with_their_own_tax_ids_are_not_duplicates(owner: User) -> None:
    # given 4,000 companies of one postal code, "Empresa Prueba 1 SL"…, each with its own CIF
    numbered_companies(owner, 4000)
    # when
    result = scan_duplicates()
    # then no two of them are a pair
    assert result.customers == 4000
    assert result.found == 0 and not DuplicatePair.objects.exists()


def test_names_whose_numbers_differ_do_not_match(owner: User) -> None:
    # given leads without tax ids whose names differ only in their numbers
    a = typed_again(owner, 1, "Empresa Prueba 12 SL")
    b = typed_again(owner, 2, "Empresa Prueba 13 SL")
    c = typed_again(owner, 3, "Empresa Prueba SL")
    same = typed_again(owner, 4, "EMPRESA PRUEBA 12")
    # when
    scan_duplicates()
    # then only the two with the same number are a pair
    assert pair_of(a, b) is None and pair_of(a, c) is None and pair_of(b, c) is None
    assert kinds(pair_of(a, same)) == {"name"}
    assert DuplicatePair.objects.count() == 1


def test_numbers_that_differ_do_not_add_a_similar_name_to_a_shared_phone(owner: User) -> None:
    # "Obras 2000" and "Obras 3000" sharing a switchboard: a group of companies, not one twice
    phone = [{"type": "phone", "value": "+34 910 000 001"}]
    a = make_lead(owner, "Obras 2000 SL", channels=phone)
    b = make_lead(owner, "Obras 3000 SL", channels=phone)
    scan_duplicates()
    assert kinds(pair_of(a, b)) == {"phone"}


def test_different_tax_ids_in_one_country_are_two_customers(owner: User) -> None:
    # given the same name twice in one postal code, each with its own valid CIF
    a = company(owner, 1, "Muñoz y Asociados SL")
    b = company(owner, 2, "Muñoz y Asociados SL")
    # when
    scan_duplicates()
    # then the names alone do not make them a pair
    assert pair_of(a, b) is None and not DuplicatePair.objects.exists()


def test_the_same_name_without_a_tax_id_is_still_found(owner: User) -> None:
    # given a company and the same one typed again without its CIF, in the same postal code
    a = company(owner, 1, "Muñoz y Asociados SL")
    b = typed_again(owner, 2, "Muñoz y Asociados SL")
    # when
    scan_duplicates()
    # then
    pair = pair_of(a, b)
    assert kinds(pair) == {"name"}
    assert pair is not None and pair.reasons[0]["similarity"] == 100


def test_different_tax_ids_sharing_an_email_are_still_a_pair(owner: User) -> None:
    # given the same company twice with two valid CIFs (one mistyped) and the same mailbox
    a = company(owner, 1, "Muñoz y Asociados SL")
    b = company(
        owner, 2, "Muñoz y Asociados", channels=[{"type": "email", "value": "c1@empresa1.example"}]
    )
    # when
    scan_duplicates()
    # then the e-mail makes them a pair, and the similar name still counts with it
    pair = pair_of(a, b)
    assert kinds(pair) == {"email", "name"}
    assert pair is not None and pair.score > round(100 * scan.WEIGHTS["email"])


def test_a_name_shared_by_too_many_customers_is_no_evidence(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given four leads of one postal code with the same name and nothing else in common
    monkeypatch.setattr(scan, "MAX_GROUP", 2)
    bars = [typed_again(owner, n, "Bar Central") for n in range(1, 5)]
    # and a real duplicate next door
    a = typed_again(owner, 5, "Ferretería Muñoz")
    b = typed_again(owner, 6, "Ferreteria Munoz SL")
    # when
    scan_duplicates()
    # then the common name pairs nobody, the duplicate is found
    assert all(pair_of(x, y) is None for x in bars for y in bars if x != y)
    assert kinds(pair_of(a, b)) == {"name"}


def test_an_oversized_block_is_compared_by_word(
    owner: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a postal code with more names than a block may hold, all sharing a common word
    monkeypatch.setattr(scan, "MAX_BLOCK", 3)
    a = typed_again(owner, 1, "Talleres Muñoz")
    b = typed_again(owner, 2, "Talleres Munoz SL")
    others = [
        typed_again(owner, n, f"Talleres {name}")
        for n, name in enumerate(["Pérez", "Gómez", "Ruiz"], start=3)
    ]
    # when
    with caplog.at_level(logging.WARNING, logger="cartera.quality"):
        scan_duplicates()
    # then the names sharing a rarer word are still compared: the duplicate is found
    assert kinds(pair_of(a, b)) == {"name"}
    assert DuplicatePair.objects.count() == 1
    assert all(pair_of(a, other) is None for other in others)
    # and the oversized block, with the one word too common to compare, is logged
    (logged,) = [r.getMessage() for r in caplog.records if "ES cp:28013" in r.getMessage()]
    assert "5 names" in logged and "1 words shared by more than 3 names left out" in logged


def test_pairs_are_written_in_short_transactions(
    owner: User, monkeypatch: pytest.MonkeyPatch, transactional_db: Any
) -> None:
    # given more pairs than one batch
    monkeypatch.setattr(scan, "BATCH", 2)
    pairs = [
        (company(owner, n, f"Sigma {n} Obras SL"), typed_again(owner, 100 + n, f"Sigma {n} Obras"))
        for n in range(1, 6)
    ]
    in_transaction: list[bool] = []
    bulk_create = DuplicatePair.objects.bulk_create

    def spy(objs: Any, *args: Any, **kwargs: Any) -> Any:
        in_transaction.append(connection.in_atomic_block)
        return bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(DuplicatePair.objects, "bulk_create", spy)
    # when
    result = scan_duplicates()
    # then every batch is written on its own, none inside a transaction of the whole scan
    assert result.created == 5 and DuplicatePair.objects.count() == 5
    assert in_transaction == [False, False, False]
    assert all(pair_of(a, b) is not None for a, b in pairs)
    # and a rescan after one of them changed keeps the rest
    archive_customer(customer=pairs[0][1], by=owner)
    again = scan_duplicates()
    assert (again.created, again.updated, again.removed) == (0, 0, 1)
    assert DuplicatePair.objects.count() == 4
