"""What keeps the register fast on a million customers: bounded searches, a lean create.

Speed itself is measured by ``make bench``; these tests pin the behaviour the speed relies on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.audit.models import AuditEvent
from cartera.core.models import Company, Sequence
from cartera.customers import services
from cartera.customers.models import Customer
from tests.conftest import client_for, make_customer, make_lead, valid_cif

pytestmark = pytest.mark.django_db


def _names(response: Any) -> list[str]:
    return [c.legal_name for c in response.context["page"].object_list]


def test_a_search_past_the_ceiling_sorts_the_first_matches_and_says_more_than(
    owner: User, settings: Any
) -> None:
    # given five customers called López and a ceiling of three for searches
    settings.CARTERA_MAX_SEARCH_COUNT = 3
    for letter in "EDCBA":
        make_lead(owner, f"López {letter}")
    make_lead(owner, "Otro Nombre")
    client = client_for(owner)
    client.get("/customers/", {"q": "lopez"})  # the session and company rows are warm
    # when the list is searched
    with CaptureQueriesContext(connection) as searched:
        page = client.get("/customers/", {"q": "lopez", "lang": "en"})
    api = client.get("/api/customers", {"search": "lopez"}).json()
    # then three of the matches (the first the index gives) are shown sorted by name, and
    # "more than 3" is said
    shown = _names(page)
    assert len(set(shown)) == 3 and shown == sorted(shown)
    assert all(name.startswith("López ") for name in shown)
    assert page.context["page"].paginator.count_is_exact is False
    assert (api["count"], api["count_is_exact"]) == (3, False)
    assert [r["legal_name"] for r in api["results"]] == shown
    # and with a filter the count is still "more than" (the index had more matches)
    filtered = client.get("/api/customers", {"search": "lopez", "stage": "lead"}).json()
    assert filtered["count_is_exact"] is False
    # and a search within the ceiling counts exactly, with the same number of queries
    settings.CARTERA_MAX_SEARCH_COUNT = 10
    with CaptureQueriesContext(connection) as within:
        page = client.get("/customers/", {"q": "lopez"})
    assert _names(page) == [f"López {letter}" for letter in "ABCDE"]
    assert page.context["page"].paginator.count == 5
    assert page.context["page"].paginator.count_is_exact is True
    assert len(within.captured_queries) == len(searched.captured_queries)


def test_short_words_and_unbounded_searches_find_everything(owner: User, settings: Any) -> None:
    # given more matches than the ceiling
    settings.CARTERA_MAX_SEARCH_COUNT = 2
    for letter in "ABC":
        make_lead(owner, f"Oca {letter}")
    # then an unbounded search finds them all, and so does a word of two letters
    assert Customer.objects.search("oca", bounded=False).count() == 3
    assert Customer.objects.search("oca").count() == 2
    assert Customer.objects.search("oc").count() == 3
    ids, truncated = Customer.objects.search("oca").first_ids(10)
    assert (len(ids), truncated) == (2, True)


def test_search_still_folds_accents_phones_and_tax_ids(owner: User, settings: Any) -> None:
    settings.CARTERA_MAX_SEARCH_COUNT = 5
    customer = make_customer(owner, legal_name="Muñoz y Asociados SL")
    client = client_for(owner)
    for term in ["munoz", "MUÑOZ", "600 11 22 33", "+34600112233", "B-12345674", "b12345674"]:
        found = client.get("/api/customers", {"search": term}).json()["results"]
        assert [r["id"] for r in found] == [customer.pk], term


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "kind": "organization",
        "legal_name": "Suministros Rápidos SL",
        "tax_country": "ES",
        "tax_id": valid_cif(4242),
        "stage": "client",
        "tags": ["vip", "norte"],
        "channels": [
            {"type": "phone", "value": "+34 600 11 22 33"},
            {"type": "email", "value": "info@rapidos.example"},
        ],
        "addresses": [
            {"type": "shipping", "street": "Calle B", "postal_code": "28013",
             "municipality": "Madrid", "country": "ES"},
            {"type": "fiscal", "street": "Calle A", "postal_code": "28013",
             "municipality": "Madrid", "country": "ES"},
        ],
        "contacts": [
            {"first_name": "Zoe", "last_name": "Ruiz", "email": "zoe@rapidos.example"},
            {"first_name": "Ana", "last_name": "Gil", "is_primary": True},
            {"first_name": "Bea", "last_name": "Sanz"},
        ],
    }  # fmt: skip
    payload.update(overrides)
    return payload


def test_api_create_answers_what_a_read_answers(owner: User) -> None:
    # given a salesperson creating a customer with tags, channels, addresses and contacts
    client = client_for(owner)
    # when it is created through the API
    created = client.post("/api/customers", json.dumps(_payload()), content_type="application/json")
    # then the answer (built from memory) is what reading it back answers
    assert created.status_code == 201, created.content
    body = created.json()
    read = client.get(f"/api/customers/{body['id']}").json()
    assert json.loads(json.dumps(body)) == read
    assert [a["type"] for a in body["addresses"]] == ["fiscal", "shipping"]
    assert [c["first_name"] for c in body["contacts"]] == ["Ana", "Bea", "Zoe"]
    assert body["tags"] == ["norte", "vip"]


def test_create_writes_the_search_text_with_the_row(owner: User) -> None:
    customer = services.create_customer(data=_payload(), by=owner)
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.search_text == stored.build_search_text()
    assert "zoe@rapidos.example" in stored.search_text
    # and the object returned reads its related rows from the database again
    assert not hasattr(customer, "_prefetched_objects_cache")
    assert customer.channels.count() == 2


def test_history_lists_what_was_created_in_the_order_given(owner: User) -> None:
    customer = services.create_customer(data=_payload(), by=owner)
    events = AuditEvent.objects.filter(customer_id=customer.pk).order_by("id")
    labels = [(e.object_type, e.object_label) for e in events]
    assert labels[-1] == ("customer", customer.code)
    contacts = [label for kind, label in labels if kind == "contact"]
    assert [c.split()[0] for c in contacts] == ["Zoe", "Ana", "Bea"]


def test_codes_follow_the_series_in_one_statement(owner: User) -> None:
    # given no series row yet: the first code creates it
    Sequence.objects.filter(key=services.CUSTOMER_CODE_SERIES).delete()
    first = make_lead(owner, "Uno")
    second = make_lead(owner, "Dos")
    # a code typed by hand ahead of the series is passed over
    make_lead(owner, "Manual", code=_next_code(second.code, 1))
    third = make_lead(owner, "Tres")
    assert _number(second.code) == _number(first.code) + 1
    assert _number(third.code) == _number(second.code) + 2


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "locked-row"])
def test_many_codes_taken_at_once_pass_over_used_ones(
    owner: User, returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (SQLite before 3.35, without UPDATE … RETURNING, takes them through the locked row)
    if not returning and connection.vendor != "sqlite":
        pytest.skip("PostgreSQL always returns columns")
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", returning)
    # given a series about to grow a digit and a code already used among the next ones
    company = Company.load()
    prefix, digits = company.customer_code_prefix, company.customer_code_digits
    top = 10**digits
    Sequence.objects.update_or_create(
        key=services.CUSTOMER_CODE_SERIES, defaults={"next_value": top - 3}
    )
    make_lead(owner, "Manual", code=f"{prefix}{top - 2:0{digits}d}")
    # when five codes are taken at once
    with transaction.atomic():
        codes = services.take_customer_codes(5, company)
    # then they follow the series, without the used one, past the new digit
    assert [_number(c) for c in codes] == [top - 3, top - 1, top, top + 1, top + 2]
    assert len(set(codes)) == 5
    assert Sequence.objects.get(key=services.CUSTOMER_CODE_SERIES).next_value == top + 3


def _number(code: str) -> int:
    return int("".join(ch for ch in code if ch.isdigit()))


def _next_code(code: str, step: int) -> str:
    digits = "".join(ch for ch in code if ch.isdigit())
    return code[: len(code) - len(digits)] + f"{int(digits) + step:0{len(digits)}d}"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_an_import_looks_tax_ids_up_in_the_index_without_knowing_their_countries(
    owner: User,
) -> None:
    # given a register with two customers
    from cartera.transfer.duplicates import holding_tax_ids, tax_id_query

    spanish = make_customer(owner, tax_id=valid_cif(11))
    make_customer(owner, tax_id=valid_cif(12))
    # when an import's chunk asks who holds its tax ids, countries unknown
    wanted = [spanish.tax_id, "B00000000"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + tax_id_query(len(wanted)), wanted)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    # then SQLite searches the tax id index rather than reading every customer
    assert "customer_tax_lookup (tax_id=?)" in plan, plan
    assert holding_tax_ids(wanted) == {("ES", spanish.tax_id): spanish.pk}
