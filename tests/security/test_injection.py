"""Input that looks like SQL, LIKE wildcards or FTS5 syntax is only ever text.

The search box of the list page (``?q=``) and the API (``?search=``) must answer 200 with
exactly the customers whose text contains what was typed, literally: ``%`` and ``_`` are
not LIKE wildcards, ``OR``/``NEAR(``/``*`` are not FTS5 operators (SQLite), and nothing
reaches the database as SQL. Filters and pages with garbage values are refused or ignored,
never a 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from cartera.accounts.models import User
from cartera.customers.models import Customer
from tests.conftest import client_for, make_customer, make_lead

MUNOZ, GOMEZ, TALLERES, JARDIN = "munoz", "gomez", "talleres", "jardin"


@pytest.fixture
def customers(owner: User) -> dict[str, Customer]:
    """Four customers; only the garden centre has a ``%`` and an ``_`` in its name."""
    return {
        # search text: c-000001 munoz y asociados sl b12345674 34600112233 600112233 info@…
        MUNOZ: make_customer(owner),
        GOMEZ: make_lead(
            owner,
            "Ferretería Gómez",
            channels=[{"type": "email", "value": "hola@gomez.example"}],
        ),
        TALLERES: make_lead(
            owner,
            "Talleres Norte",
            trade_name="Talleres del Norte",
            channels=[{"type": "phone", "value": "+34 912 345 678"}],
        ),
        JARDIN: make_lead(
            owner,
            "Jardinería 100% Natural_Bio",
            channels=[{"type": "website", "value": "jardin.example"}],
        ),
    }


EVERYONE = {MUNOZ, GOMEZ, TALLERES, JARDIN}

# What is typed → who must be found. Every word must appear literally; a query whose
# letters and digits alone ("munoz" in 'munoz"') appear also matches (see Customer.search).
SEARCHES: list[tuple[str, set[str]]] = [
    ("' OR 1=1 --", set()),
    ("' OR '1'='1", set()),
    ("%", {JARDIN}),  # a literal percent sign, not "anything"
    ("%%", set()),
    ("_", {JARDIN}),  # a literal underscore, not "any character"
    ("m_noz", set()),
    ("m%z", set()),
    ("100%", {JARDIN}),
    ("natural_bio", {JARDIN}),
    ('\\"', set()),
    ("\\", set()),
    ("'", set()),
    ('"', set()),
    ('"""', set()),
    ('"; DROP TABLE customers_customer; --', set()),
    ("'); DROP TABLE customers_customer; --", set()),
    ("' UNION SELECT password FROM accounts_user --", set()),
    ("1; SELECT pg_sleep(5)", set()),
    ("$$", set()),
    # FTS5 query syntax is text too
    ("NEAR(", set()),
    ("NEAR(munoz talleres)", set()),
    ("*", set()),
    ("munoz*", {MUNOZ}),  # its letters alone: "munoz"
    ('munoz"', {MUNOZ}),
    ('"munoz"', {MUNOZ}),
    ("a OR b", set()),  # an operator would find everyone
    ("munoz OR talleres", set()),
    ("munoz AND gomez", set()),
    ("NOT munoz", set()),
    ("search_text:munoz", set()),
    ("{search_text}: munoz", set()),
    ("^munoz", {MUNOZ}),
    ("munoz + gomez", set()),
    ("%munoz%", {MUNOZ}),
    # unicode
    ("Muñoz", {MUNOZ}),
    ("MUÑOZ", {MUNOZ}),
    ("𝔪𝔲𝔫𝔬𝔷", {MUNOZ}),  # compatibility letters fold to plain ones
    ("ñandú 🦜", set()),
    ("талеры", set()),
    ("\u202egomez", {GOMEZ}),  # a right-to-left override before the name
    ("   ", EVERYONE),  # nothing typed: no search
]


def _found_on_page(response: Any, customers: dict[str, Customer]) -> set[str]:
    ids = {c.pk for c in response.context["page"].object_list}
    return {name for name, customer in customers.items() if customer.pk in ids}


def _found_by_api(response: Any, customers: dict[str, Customer]) -> set[str]:
    ids = {row["id"] for row in response.json()["results"]}
    assert response.json()["count"] == len(ids)
    return {name for name, customer in customers.items() if customer.pk in ids}


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "expected"), SEARCHES, ids=[repr(t) for t, _ in SEARCHES])
def test_list_page_search_is_literal(
    customers: dict[str, Customer], owner: User, typed: str, expected: set[str]
) -> None:
    # given four customers, when the owner searches the list page
    response = client_for(owner).get("/customers/", {"q": typed})

    # then the page answers and lists exactly the customers containing the text
    assert response.status_code == 200
    assert not response.context["filter"].errors
    assert _found_on_page(response, customers) == expected
    assert Customer.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "expected"), SEARCHES, ids=[repr(t) for t, _ in SEARCHES])
def test_api_search_is_literal(
    customers: dict[str, Customer], owner: User, typed: str, expected: set[str]
) -> None:
    # given four customers, when an integration searches through the API
    response = client_for(owner).get("/api/customers", {"search": typed})

    # then it answers and returns exactly the customers containing the text
    assert response.status_code == 200, response.content
    assert _found_by_api(response, customers) == expected
    assert Customer.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["%", "_", "*", "%%", "_%", "NEAR(", '"'])
def test_wildcards_find_nothing_when_no_customer_contains_them(owner: User, typed: str) -> None:
    # given three customers without any of these characters
    for name in ("Muñoz y Asociados SL", "Ferretería Gómez", "Talleres Norte"):
        make_lead(owner, name)
    client = client_for(owner)

    # when someone searches for a wildcard on the page and through the API
    page = client.get("/customers/", {"q": typed})
    api = client.get("/api/customers", {"search": typed})

    # then nobody matches: the character is not "anything"
    assert page.status_code == api.status_code == 200
    assert list(page.context["page"].object_list) == []
    assert api.json()["count"] == 0


UNUSABLE = [
    pytest.param("x" * 5000, id="5000-characters"),
    pytest.param("munoz\x00", id="NUL-byte"),
    pytest.param("\x00", id="only-NUL"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("typed", UNUSABLE)
def test_list_page_reports_a_search_it_cannot_use(
    customers: dict[str, Customer], owner: User, typed: str
) -> None:
    # given a search that is too long or holds a NUL byte (PostgreSQL cannot store one)
    response = client_for(owner).get("/customers/", {"q": typed})

    # then the page answers, says the search was not valid, and ignores it
    assert response.status_code == 200
    assert "q" in response.context["filter"].errors
    assert "no eran válidos" in response.content.decode()
    assert _found_on_page(response, customers) == EVERYONE


@pytest.mark.django_db
@pytest.mark.parametrize("typed", UNUSABLE)
def test_api_refuses_a_search_it_cannot_use(
    customers: dict[str, Customer], owner: User, typed: str
) -> None:
    # given a search that is too long or holds a NUL byte, when it is sent to the API
    response = client_for(owner).get("/api/customers", {"search": typed})

    # then it is refused with 422 naming the parameter
    assert response.status_code == 422, response.content
    assert ["query", "search"] in [item["loc"] for item in response.json()["detail"]]


# --- Filters and pages with garbage values ------------------------------------------------------

GARBAGE_FILTERS = [
    "owner=1 OR 1=1",
    "owner=1; DROP TABLE customers_customer",
    "owner=-1",
    "owner=99999999999999999999",
    "owner[]=1",
    "stage[]=x",
    "stage=x",
    "stage=client' OR '1'='1",
    "status=%",
    "group=abc",
    "group=99999999999999999999",
    "group=1.5",
    "tag=%",
    "tag=' OR '1'='1",
    "country=XX'",
    "country=%00",
    "region=' OR 1=1 --",
    "region=%00",
    "region=" + "X" * 300,
    "follow_up=maybe",
    "archived=yes'",
    "sort=legal_name; DROP TABLE customers_customer",
    "sort=owner__password",
    "sort=-password",
    "cf_unknown=1",
    "q[]=x",
    "q=a&q=%",
    "contactable_for='; DROP TABLE privacy_consentrecord; --",
    "contactable_for=%00",
    "page=-1",
    "page=0",
    "page=abc",
    "page=1e9",
    "page=99999999999999999999",
    "page=%00",
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", GARBAGE_FILTERS)
def test_list_page_survives_garbage_filters(
    customers: dict[str, Customer], owner: User, query: str
) -> None:
    # when the list page gets a query string nobody would type
    response = client_for(owner).get(f"/customers/?{query}")

    # then it answers (invalid filters are ignored and reported), and the data is intact
    assert response.status_code == 200
    assert Customer.objects.count() == 4


def _as_api(query: str) -> str:
    """The list page's query string for the API, which calls the search ``search``."""
    return "/api/customers?" + query.replace("q=", "search=").replace("q[]", "search[]")


API_GARBAGE = [
    *[_as_api(q) for q in GARBAGE_FILTERS],
    # an offset beyond 64 bits must not reach the SQL OFFSET (it answered 500 before)
    "/api/customers/{pk}/history?page=99999999999999999999",
    "/api/customers?page_size=0",
    "/api/customers?page_size=-5",
    "/api/customers?page_size=100000",
    "/api/customers?page_size=abc",
    "/api/customers?page=9999999999",
    "/api/customers?search[]=x",
    "/api/customers?archived=2",
    "/api/customers/{pk}/history?page=-1",
    "/api/customers/{pk}/history?page_size=100000",
    "/api/customers/{pk}/history?page=9999999999",
    "/api/customers/{pk}/consents?x=' OR 1=1",
    "/api/customers/99999999999999999999",
    "/api/customers/-1",
    "/api/customers/1%20OR%201=1",
    "/api/tax-ids/check?country=ES&value=' OR 1=1 --",
    "/api/tax-ids/check?country=ES&value=%00",
    "/api/tax-ids/check?country=E'&value=B12345674",
    "/api/tax-ids/check?country=ES&value=" + "9" * 5000,
    "/api/tax-ids/check?country=ES&value=B12345674&exclude=abc",
    "/api/tax-ids/check?country=ES&value=B12345674&exclude=99999999999999999999",
    "/api/privacy/requests?open_only=' OR 1=1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", API_GARBAGE)
def test_api_survives_garbage_parameters(
    customers: dict[str, Customer], admin_user: User, url: str
) -> None:
    # when the API gets parameters nobody would send
    response = client_for(admin_user).get(url.format(pk=customers[MUNOZ].pk))

    # then it answers with a result or a 4xx naming the problem, never a 500
    assert response.status_code in (200, 404, 422), response.content[:300]
    if response.status_code == 422:
        assert response.json()["detail"]
    assert Customer.objects.count() == 4


# --- Bodies ---------------------------------------------------------------------------------------

HOSTILE = "Robert'); DROP TABLE customers_customer; -- %_*\"NEAR(\\"


@pytest.mark.django_db
def test_hostile_text_is_stored_verbatim_and_found_literally(owner: User) -> None:
    # given a lead created through the API whose texts look like SQL and FTS syntax
    client = client_for(owner)
    body = {
        "kind": "organization",
        "legal_name": HOSTILE,
        "trade_name": "' OR 1=1 --",
        "notes": HOSTILE,
        "tags": [HOSTILE[:50]],
        "stage": "lead",
        "channels": [{"type": "email", "value": "robert@tables.example"}],
        "contacts": [{"first_name": "NEAR(", "last_name": "*", "role": HOSTILE[:100]}],
    }
    created = client.post("/api/customers", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content

    # when it is read back and searched for by a piece of its name
    customer = Customer.objects.get(pk=created.json()["id"])
    found = client.get("/api/customers", {"search": "DROP TABLE customers_customer; --"})
    page = client.get("/customers/", {"q": '%_*"NEAR('})

    # then every text is exactly as sent, and the searches find it (and only it)
    assert (customer.legal_name, customer.trade_name, customer.notes) == (
        HOSTILE,
        "' OR 1=1 --",
        HOSTILE,
    )
    assert [c.role for c in customer.contacts.all()] == [HOSTILE[:100]]
    assert [row["id"] for row in found.json()["results"]] == [customer.pk]
    assert [c.pk for c in page.context["page"].object_list] == [customer.pk]


@pytest.mark.django_db
def test_hostile_text_in_an_anonymous_request_is_just_refused(customers: Any) -> None:
    # when an anonymous visitor sends SQL-looking credentials and parameters
    client = Client()
    login = client.post("/accounts/login/", {"username": "' OR 1=1 --", "password": "x' OR '1"})
    api = client.get("/api/customers", {"search": "' OR 1=1 --"})

    # then the login fails like any wrong password and the API asks for authentication
    assert login.status_code == 200
    assert "_auth_user_id" not in client.session
    assert api.status_code == 401


# --- NUL bytes in API bodies ----------------------------------------------------------------------

ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _lead(**fields: Any) -> dict[str, Any]:
    body = {
        "kind": "organization",
        "legal_name": "Lead con NUL",
        "stage": "lead",
        "channels": [{"type": "email", "value": "nul@lead.example"}],
    }
    return body | fields


NUL_BODIES = [
    pytest.param("legal_name", _lead(legal_name="Muñoz\x00SL"), id="legal_name"),
    pytest.param("notes", _lead(notes="llamar\x00"), id="notes"),
    pytest.param("tags", _lead(tags=["vip\x00"]), id="tags"),
    pytest.param("contacts", _lead(contacts=[{"first_name": "Ana\x00"}]), id="contact-name"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "body"), NUL_BODIES)
def test_api_refuses_nul_bytes_in_text(owner: User, field: str, body: dict[str, Any]) -> None:
    # given a body whose text holds a NUL byte (PostgreSQL cannot store one)
    client = client_for(owner)

    # when it is sent to create a customer
    response = client.post("/api/customers", json.dumps(body), content_type="application/json")

    # then it is refused with 422 naming the field, and nothing is stored
    assert response.status_code == 422, response.content[:300]
    assert field in [item["loc"][1] for item in response.json()["detail"]]
    assert Customer.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("consents", {"purpose": "commercial", "legal_basis": "consent",
                                  "state": "granted", "recorded_on": "2025-01-02",
                                  "source": "web\x00"}, id="consent-source"),
        pytest.param("patch", {"notes": "x\x00"}, id="patch-notes"),
    ],
)  # fmt: skip
def test_api_refuses_nul_bytes_in_other_writes(
    customers: dict[str, Customer], admin_user: User, path: str, body: dict[str, Any]
) -> None:
    # given an existing customer, when a write carries a NUL byte
    client = client_for(admin_user)
    pk = customers[MUNOZ].pk
    data = json.dumps(body)
    if path == "patch":
        response = client.patch(f"/api/customers/{pk}", data, content_type="application/json")
    else:
        response = client.post(f"/api/customers/{pk}/{path}", data, content_type="application/json")

    # then it is refused with 422
    assert response.status_code == 422, response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(("post", "/api/customers", _lead(fiscal_type="\x00")), id="fiscal_type"),
        pytest.param(("post", "/api/customers", _lead(legal_form="SL\x00")), id="legal_form"),
        pytest.param(("get", "/api/tax-ids/check?country=%00&value=B12345674", None), id="check"),
    ],
)
def test_api_survives_nul_bytes_in_looked_up_codes(
    owner: User, request_: tuple[str, str, Any]
) -> None:
    # when a code that the API looks up in the database holds a NUL byte
    method, url, body = request_
    client = client_for(owner)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, json.dumps(body), content_type="application/json")

    # then the answer is a result or a 422, not a 500
    assert response.status_code in (200, 422), response.content[:300]
