"""Tests for the customer REST API (/api/customers, /api/tax-ids/check, OpenAPI and docs)."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartera.accounts.models import ApiToken, User
from cartera.customers import services
from cartera.customers.fiscal import check_tax_id
from cartera.customers.models import Customer
from tests.conftest import (
    CIF_SL,
    bearer,
    client_for,
    make_customer,
    make_lead,
    valid_cif,
)

# A Spanish word in a message proves the API spoke Spanish.
SPANISH = re.compile(
    r"\b(el|la|los|las|de|del|no|o|un|una|es|este|número|dígito|introduce|elige|válida)\b", re.I
)


def issue_payload(**overrides: Any) -> dict[str, Any]:
    """The JSON of the issue: an invoiceable Spanish SL with channels, address and contact."""
    payload: dict[str, Any] = {
        "kind": "organization",
        "legal_name": "Muñoz y Asociados SL",
        "tax_country": "ES",
        "tax_id": "B-12345674",
        "stage": "client",
        "channels": [
            {"type": "phone", "value": "+34 600 11 22 33"},
            {"type": "email", "value": "facturas@munoz.example", "label": "billing"},
        ],
        "addresses": [
            {
                "type": "fiscal",
                "street": "Calle Mayor",
                "exterior_number": "28",
                "interior_number": "3º B",
                "neighbourhood": "Centro",
                "municipality": "Madrid",
                "locality": "Madrid",
                "postal_code": "28013",
                "region": "ES-M",
                "country": "ES",
            }
        ],
        "contacts": [
            {
                "first_name": "Lucía",
                "last_name": "Pérez",
                "role": "Administración",
                "email": "lucia@munoz.example",
                "birthday": "1985-04-12",
            }
        ],
    }
    payload.update(overrides)
    return payload


def post_json(client: Client, url: str, payload: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


def patch_json(client: Client, url: str, payload: Any, **extra: Any) -> Any:
    return client.patch(url, json.dumps(payload), content_type="application/json", **extra)


def test_the_issue_payload_holds_a_valid_cif() -> None:
    # given the tax id of the issue, when checked
    result = check_tax_id("B-12345674", "ES")

    # then it is the valid CIF of an SL the other tests rely on
    assert (result.valid, result.compact, result.legal_form) == (True, CIF_SL, "SL")


# --- Creating ------------------------------------------------------------------------------


def test_post_creates_the_customer_of_the_issue_with_a_token(owner: User) -> None:
    # given an integrator with a write token
    client = Client()

    # when it posts the issue's JSON
    response = post_json(client, "/api/customers", issue_payload(), **bearer(owner))

    # then the customer is created, normalised and invoiceable
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert body["code"] == customer.code == "C-000001"
    assert (body["tax_id"], body["tax_id_formatted"]) == (CIF_SL, "B12345674")
    assert (body["legal_form"], body["fiscal_type"]) == ("SL", "sociedad_mercantil")
    assert body["invoiceable"] is True
    assert body["missing_for_invoice"] == []
    assert body["channels"][0]["value"] == "+34600112233"
    assert body["channels"][0]["label"] == "mobile"
    assert body["channels"][1]["label"] == "billing"
    address = body["addresses"][0]
    assert (address["interior_number"], address["region"], address["postal_code"]) == (
        "3º B",
        "ES-M",
        "28013",
    )
    assert body["contacts"][0]["first_name"] == "Lucía"
    assert body["contacts"][0]["birthday"] == "1985-04-12"
    assert body["owner"]["id"] == owner.pk
    assert body["version"] == 1


def test_post_with_a_session(owner: User) -> None:
    # given a logged-in browser session
    client = client_for(owner)

    # when it posts the issue's JSON
    response = post_json(client, "/api/customers", issue_payload())

    # then the customer is created for that user
    assert response.status_code == 201, response.content
    assert Customer.objects.get().owner == owner


def test_read_scoped_token_cannot_post(owner: User) -> None:
    # given a read-only token
    headers = bearer(owner, scope="read")

    # when it posts a customer
    response = post_json(Client(), "/api/customers", issue_payload(), **headers)

    # then it is forbidden and nothing is created, but it can still read
    assert response.status_code == 403
    assert Customer.objects.count() == 0
    assert Client().get("/api/customers", **headers).status_code == 200


@pytest.mark.parametrize("problem", ["revoked", "expired", "unknown"])
def test_unusable_token_is_unauthorised(owner: User, problem: str) -> None:
    # given a token that was revoked, has expired, or never existed
    token, key = ApiToken.issue(user=owner, name="integración")
    if problem == "revoked":
        token.revoked_at = timezone.now()
    elif problem == "expired":
        token.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    else:
        key = key[:-4] + "zzzz"
    token.save()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    # when it is used to read and to write
    read = Client().get("/api/customers", **headers)
    write = post_json(Client(), "/api/customers", issue_payload(), **headers)

    # then both are refused as unauthenticated and nothing is created
    assert (read.status_code, write.status_code) == (401, 401)
    assert Customer.objects.count() == 0


def test_token_of_a_deactivated_user_is_unauthorised(owner: User) -> None:
    # given a token whose user has left the company
    headers = bearer(owner)
    owner.is_active = False
    owner.save()

    # when used
    response = Client().get("/api/customers", **headers)

    # then it is refused
    assert response.status_code == 401


def test_invalid_tax_id_is_422_in_spanish_by_default(owner: User) -> None:
    # given a CIF with a wrong check digit
    payload = issue_payload(tax_id="B-12345675")

    # when posted without a language preference
    response = post_json(client_for(owner), "/api/customers", payload)

    # then the error names the tax id, in Spanish, and nothing is created
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "tax_id"]]
    assert SPANISH.search(detail[0]["msg"]), detail[0]["msg"]
    assert Customer.objects.count() == 0


def test_invalid_tax_id_is_422_in_english_with_the_cookie(owner: User) -> None:
    # given a user who chose English
    client = client_for(owner)
    client.cookies["cartera_language"] = "en"

    # when posting a CIF with a wrong check digit
    response = post_json(client, "/api/customers", issue_payload(tax_id="B-12345675"))

    # then the error is in English
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "tax_id"]
    assert "check digit" in detail[0]["msg"]


@pytest.mark.parametrize(
    ("override", "field"),
    [({"follow_up": "maybe"}, "follow_up"), ({"kind": "robot"}, "kind")],
)
def test_type_error_is_422_naming_the_field_in_spanish(
    owner: User, override: dict[str, Any], field: str
) -> None:
    # given a payload with a value of the wrong type
    payload = issue_payload(**override)

    # when posted
    response = post_json(client_for(owner), "/api/customers", payload)

    # then the error names the field, in Spanish, and nothing is created
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == 1
    assert detail[0]["loc"][0] == "body"
    assert detail[0]["loc"][-1] == field
    assert SPANISH.search(detail[0]["msg"]), detail[0]["msg"]
    assert Customer.objects.count() == 0


def test_non_finite_amount_is_422_in_spanish(owner: User) -> None:
    # given an amount that is not a number
    payload = issue_payload(annual_revenue="NaN")

    # when posted
    response = post_json(client_for(owner), "/api/customers", payload)

    # then the error names the field, in Spanish
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"][-1] == "annual_revenue"
    assert SPANISH.search(detail[0]["msg"]), detail[0]["msg"]


def test_type_error_is_in_english_with_the_cookie(owner: User) -> None:
    # given a user who chose English
    client = client_for(owner)
    client.cookies["cartera_language"] = "en"

    # when posting a kind that does not exist
    response = post_json(client, "/api/customers", issue_payload(kind="robot"))

    # then the message is English
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Select a valid choice."
    assert response.headers["Content-Language"] == "en"


def test_bad_channel_in_the_list_is_422_naming_its_position(owner: User) -> None:
    # given a channel of a type that does not exist
    payload = issue_payload(channels=[{"type": "pigeon", "value": "x"}])

    # when posted
    response = post_json(client_for(owner), "/api/customers", payload)

    # then the error points at that channel's type
    assert response.status_code == 422
    locs = [d["loc"] for d in response.json()["detail"]]
    assert any(loc[0] == "body" and loc[-3:] == ["channels", 0, "type"] for loc in locs), locs


@pytest.mark.parametrize("body", ['{"kind": "organization",', "no es json", "\xff\xfe"])
def test_malformed_json_is_a_client_error(owner: User, body: str) -> None:
    # given a body that is not JSON
    client = client_for(owner)

    # when posted
    response = client.post("/api/customers", body, content_type="application/json")

    # then it is a 4xx and nothing is created
    assert 400 <= response.status_code < 500
    assert Customer.objects.count() == 0


def test_duplicate_tax_id_is_422_pointing_to_the_existing_customer(
    owner: User, teammate: User
) -> None:
    # given a customer with the CIF of the issue
    first = make_customer(owner)

    # when a teammate posts another customer with the same CIF
    response = post_json(client_for(teammate), "/api/customers", issue_payload())

    # then it is refused and points to the first one
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["loc"] == ["body", "tax_id"]
    assert body["duplicate_of"]["id"] == first.pk
    assert body["duplicate_of"]["code"] == first.code
    assert Customer.objects.count() == 1


def test_client_without_fiscal_address_is_422(owner: User) -> None:
    # given a client without addresses
    payload = issue_payload(addresses=[])

    # when posted
    response = post_json(client_for(owner), "/api/customers", payload)

    # then the addresses are named
    assert response.status_code == 422
    assert ["body", "addresses"] in [d["loc"] for d in response.json()["detail"]]
    assert Customer.objects.count() == 0


# --- Listing -------------------------------------------------------------------------------


def _full_customer(owner: User, number: int) -> Customer:
    """A client with two channels, an address, a contact and two tags."""
    return make_customer(
        owner,
        legal_name=f"Cliente {number:02d} SL",
        tax_id=valid_cif(1000 + number),
        contacts=[{"first_name": "Lucía", "last_name": f"Pérez {number}"}],
        tags=["vip", f"zona-{number % 3}"],
    )


def test_list_costs_the_same_queries_for_3_and_15_customers(
    owner: User, django_assert_num_queries: Any
) -> None:
    # given a user and 3 customers with everything the list shows
    client = client_for(owner)
    for number in range(3):
        _full_customer(owner, number)
    client.get("/api/customers")  # the session and company rows are warm from now on
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/customers").json()["results"]) == 3

    # when there are 15
    for number in range(3, 15):
        _full_customer(owner, number)

    # then the list makes exactly as many queries
    with django_assert_num_queries(len(few)):
        response = client.get("/api/customers")
    assert len(response.json()["results"]) == 15


def test_list_shows_everything_of_each_customer(owner: User) -> None:
    # given a full customer
    customer = _full_customer(owner, 1)

    # when listed
    body = client_for(owner).get("/api/customers").json()

    # then the row carries the related data
    (row,) = body["results"]
    assert row["id"] == customer.pk
    assert sorted(row["tags"]) == ["vip", "zona-1"]
    assert [c["type"] for c in row["channels"]] == ["phone", "email"]
    assert row["addresses"][0]["region"] == "ES-M"
    assert row["contacts"][0]["last_name"] == "Pérez 1"
    assert row["invoiceable"] is True


def test_list_search_is_accent_insensitive(owner: User) -> None:
    # given "Muñoz y Asociados SL" and another customer
    customer = make_customer(owner)
    make_lead(owner, "Ferretería Gómez")

    # when searching "munoz" and "ferreteria"
    client = client_for(owner)
    munoz = client.get("/api/customers", {"search": "munoz"}).json()
    gomez = client.get("/api/customers", {"search": "ferreteria gomez"}).json()

    # then each finds its customer only
    assert (munoz["count"], [r["id"] for r in munoz["results"]]) == (1, [customer.pk])
    assert gomez["count"] == 1
    assert gomez["results"][0]["legal_name"] == "Ferretería Gómez"


@pytest.fixture
def portfolio(owner: User, teammate: User) -> dict[str, Customer]:
    """Customers that differ in one filterable thing each."""
    client = make_customer(owner, legal_name="Alfa SL")
    lead = make_lead(owner, "Beta Leads", follow_up=True)
    suspended = make_customer(
        teammate,
        legal_name="Gamma SL",
        tax_id=valid_cif(2222222),
        status="suspended",
        status_reason="Impago",
    )
    mexican = make_lead(
        teammate,
        "Delta SA de CV",
        addresses=[{"type": "shipping", "street": "Reforma 1", "postal_code": "06600",
                    "municipality": "Cuauhtémoc", "country": "MX"}],
    )  # fmt: skip
    archived = make_lead(owner, "Épsilon Archivada")
    services.archive_customer(customer=archived, by=owner)
    return {
        "client": client,
        "lead": lead,
        "suspended": suspended,
        "mexican": mexican,
        "archived": archived,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["client", "lead", "suspended", "mexican"]),
        ({"stage": "lead"}, ["lead", "mexican"]),
        ({"stage": "client"}, ["client", "suspended"]),
        ({"status": "suspended"}, ["suspended"]),
        ({"owner": "teammate"}, ["suspended", "mexican"]),
        ({"country": "MX"}, ["mexican"]),
        ({"country": "ES"}, ["client", "suspended"]),
        ({"follow_up": "true"}, ["lead"]),
        ({"archived": "true"}, ["archived"]),
        ({"stage": "lead", "owner": "owner"}, ["lead"]),
    ],
)
def test_list_filters(
    owner: User,
    teammate: User,
    portfolio: dict[str, Customer],
    params: dict[str, str],
    expected: list[str],
) -> None:
    # given the portfolio and a filter
    users = {"owner": owner, "teammate": teammate}
    query = {k: str(users[v].pk) if k == "owner" else v for k, v in params.items()}

    # when listing with it
    body = client_for(owner).get("/api/customers", query).json()

    # then exactly the matching customers come back, by name
    expected_ids = sorted(portfolio[name].pk for name in expected)
    assert sorted(r["id"] for r in body["results"]) == expected_ids
    assert body["count"] == len(expected)


def test_list_filter_follow_up_false(portfolio: dict[str, Customer], owner: User) -> None:
    # given the portfolio, where only the lead is on follow-up
    client = client_for(owner)

    # when listing those not on follow-up
    body = client.get("/api/customers", {"follow_up": "false"}).json()

    # then the lead is left out
    expected = sorted(portfolio[n].pk for n in ("client", "suspended", "mexican"))
    assert sorted(r["id"] for r in body["results"]) == expected


@pytest.mark.parametrize(
    ("param", "value"),
    [("stage", "robot"), ("status", "dormido"), ("owner", "999999"), ("country", "XX")],
)
def test_list_refuses_invalid_filters(
    portfolio: dict[str, Customer], owner: User, param: str, value: str
) -> None:
    # given the portfolio, when listing with a filter value that cannot match anything valid
    response = client_for(owner).get("/api/customers", {param: value})

    # then the integrator is told, instead of getting every customer
    assert response.status_code == 422, response.json()["count"]
    assert response.json()["detail"][0]["loc"][-1] == param


def test_list_pagination(owner: User) -> None:
    # given 5 leads
    leads = [make_lead(owner, f"Lead {n}") for n in range(5)]

    # when reading pages of 2
    client = client_for(owner)
    pages = [client.get("/api/customers", {"page": p, "page_size": 2}).json() for p in (1, 2, 3)]

    # then every page says the total and the leads come once each, in name order
    assert [p["count"] for p in pages] == [5, 5, 5]
    assert [(p["page"], p["page_size"]) for p in pages] == [(1, 2), (2, 2), (3, 2)]
    ids = [r["id"] for p in pages for r in p["results"]]
    assert ids == [lead.pk for lead in leads]


@pytest.mark.parametrize("params", [{"page_size": 0}, {"page_size": 201}, {"page": 0}])
def test_list_refuses_bad_pagination(owner: User, params: dict[str, int]) -> None:
    # given a bad page or page size, when listing
    response = client_for(owner).get("/api/customers", params)

    # then it is a 422 naming the parameter
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == next(iter(params))


# --- Reading and changing one -------------------------------------------------------------


def test_get_returns_the_customer_with_an_etag(owner: User) -> None:
    # given a customer
    customer = make_customer(owner)

    # when read
    response = client_for(owner).get(f"/api/customers/{customer.pk}")

    # then it comes with its version as ETag
    assert response.status_code == 200
    assert response.json()["code"] == customer.code
    assert response["ETag"] == '"1"'


def test_get_unknown_customer_is_404(owner: User) -> None:
    # given no customer, when one is read
    response = client_for(owner).get("/api/customers/999999")

    # then it is not found
    assert response.status_code == 404


def test_patch_with_an_old_if_match_is_409_and_changes_nothing(owner: User, teammate: User) -> None:
    # given a customer read at version 1 and then changed by a teammate
    customer = make_customer(owner)
    services.update_customer(customer=customer, data={"notes": "Llamar tarde"}, by=teammate)

    # when the owner patches with the ETag they read
    response = patch_json(
        client_for(owner),
        f"/api/customers/{customer.pk}",
        {"notes": "Llamar mañana"},
        HTTP_IF_MATCH='"1"',
    )

    # then it is a conflict and the teammate's change stays
    assert response.status_code == 409
    customer.refresh_from_db()
    assert (customer.notes, customer.version) == ("Llamar tarde", 2)


def test_patch_with_the_right_version_updates_and_bumps_it(owner: User) -> None:
    # given a customer at version 1
    customer = make_customer(owner)
    client = client_for(owner)

    # when patched with If-Match, then with the version in the body
    first = patch_json(
        client, f"/api/customers/{customer.pk}", {"follow_up": True}, HTTP_IF_MATCH='"1"'
    )
    second = patch_json(
        client, f"/api/customers/{customer.pk}", {"trade_name": "Muñoz", "version": 2}
    )

    # then both are saved and the ETag follows the version
    assert (first.status_code, second.status_code) == (200, 200), second.content
    assert (first["ETag"], second["ETag"]) == ('"2"', '"3"')
    assert second.json()["version"] == 3
    customer.refresh_from_db()
    assert (customer.follow_up, customer.trade_name, customer.version) == (True, "Muñoz", 3)


def test_patch_with_empty_channels_removes_them_from_a_client(owner: User) -> None:
    # given a client with a phone and an e-mail
    customer = make_customer(owner)

    # when patched with no channels
    response = patch_json(client_for(owner), f"/api/customers/{customer.pk}", {"channels": []})

    # then the channels are gone and it is still an invoiceable client
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["channels"] == []
    assert (body["stage"], body["invoiceable"]) == ("client", True)
    assert customer.channels.count() == 0
    assert customer.addresses.count() == 1


def test_patch_owner_by_a_salesperson_is_422(owner: User, teammate: User) -> None:
    # given the owner's customer
    customer = make_customer(owner)

    # when the owner gives it to a teammate through the API
    response = patch_json(
        client_for(owner), f"/api/customers/{customer.pk}", {"owner": teammate.pk}
    )

    # then it is refused on the owner field and nothing changes
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "owner"]]
    customer.refresh_from_db()
    assert (customer.owner, customer.version) == (owner, 1)


def test_patch_owner_by_a_manager(owner: User, teammate: User, manager: User) -> None:
    # given the owner's customer
    customer = make_customer(owner)

    # when a manager gives it to a teammate through the API
    response = patch_json(
        client_for(manager), f"/api/customers/{customer.pk}", {"owner": teammate.pk}
    )

    # then the teammate owns it
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == teammate.pk
    customer.refresh_from_db()
    assert customer.owner == teammate


def test_patch_leaves_unsent_fields_alone(owner: User) -> None:
    # given a client with channels and a fiscal address
    customer = make_customer(owner)

    # when only the notes are patched
    response = patch_json(client_for(owner), f"/api/customers/{customer.pk}", {"notes": "VIP"})

    # then the lists and the fiscal data are untouched
    assert response.status_code == 200
    body = response.json()
    assert (body["notes"], body["tax_id"], len(body["channels"])) == ("VIP", CIF_SL, 2)
    assert len(body["addresses"]) == 1


def test_delete_archives_and_restore_brings_back(owner: User) -> None:
    # given a customer
    customer = make_customer(owner)
    client = client_for(owner)

    # when deleted through the API
    deleted = client.delete(f"/api/customers/{customer.pk}")

    # then it is archived, not deleted, and leaves the list
    assert deleted.status_code == 200
    assert deleted.json()["archived_at"] is not None
    customer.refresh_from_db()
    assert customer.archived_at is not None
    assert client.get("/api/customers").json()["count"] == 0

    # when restored
    restored = client.post(f"/api/customers/{customer.pk}/restore")

    # then it is back in the list
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    customer.refresh_from_db()
    assert customer.archived_at is None
    assert client.get("/api/customers").json()["count"] == 1


# --- Tax id check ------------------------------------------------------------------------


def test_tax_id_check_of_a_valid_cif(owner: User) -> None:
    # given a CIF written with a dash, when checked for Spain
    response = client_for(owner).get("/api/tax-ids/check", {"country": "ES", "value": "B-12345674"})

    # then it is valid and says what it implies
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert (body["compact"], body["formatted"], body["country"]) == (CIF_SL, "B12345674", "ES")
    assert (body["kind"], body["legal_form"], body["fiscal_type"]) == (
        "organization",
        "SL",
        "sociedad_mercantil",
    )
    assert body["legal_form_id"] is not None
    assert body["duplicate_of"] is None


def test_tax_id_check_of_a_wrong_check_digit(owner: User) -> None:
    # given Telefónica's CIF with the last digit changed, when checked
    body = (
        client_for(owner).get("/api/tax-ids/check", {"country": "ES", "value": "A28015866"}).json()
    )

    # then it is invalid with a reason
    assert body["valid"] is False
    assert body["reason"]
    assert body["legal_form"] is None


def test_tax_id_check_guesses_the_country_from_a_vat_prefix(owner: User) -> None:
    # given a Spanish VAT number and no country, when checked
    body = client_for(owner).get("/api/tax-ids/check", {"value": "ESA28015865"}).json()

    # then Spain is recognised
    assert body["valid"] is True
    assert (body["country"], body["compact"], body["legal_form"]) == ("ES", "A28015865", "SA")


def test_tax_id_check_reports_a_duplicate(owner: User) -> None:
    # given a customer with the CIF
    customer = make_customer(owner)

    # when the CIF is checked, and checked while editing that customer
    client = client_for(owner)
    found = client.get("/api/tax-ids/check", {"country": "ES", "value": CIF_SL}).json()
    editing = client.get(
        "/api/tax-ids/check", {"country": "ES", "value": CIF_SL, "exclude": customer.pk}
    ).json()

    # then the first points to the customer and the second does not
    assert found["duplicate_of"]["id"] == customer.pk
    assert found["duplicate_of"]["url"] == f"/customers/{customer.pk}/"
    assert editing["duplicate_of"] is None


# --- OpenAPI and docs ----------------------------------------------------------------------


def test_openapi_documents_the_customer_endpoints(owner: User) -> None:
    # given the API, when its schema is read
    response = client_for(owner).get("/api/openapi.json")

    # then it is JSON listing the endpoints, with the 422 of creation
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/customers", "/api/customers/{customer_id}", "/api/tax-ids/check"} <= set(
        schema["paths"]
    )
    assert "422" in schema["paths"]["/api/customers"]["post"]["responses"]


def test_docs_are_served_from_local_static_files(owner: User) -> None:
    # given the API docs page, when opened
    response = client_for(owner).get("/api/docs")

    # then it loads Swagger from our own static files, never a CDN
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    assert sources, html
    assert all(src.startswith("/static/") for src in sources), sources
    assert any("swagger" in src for src in sources)
    assert not re.search(r'(src|href)="(https?:)?//', html)


@pytest.mark.parametrize(
    "url", ["/api/customers?page=99999999999999999999", "/api/customers/1/history?page=10001"]
)
def test_absurd_page_numbers_are_refused_not_crashed(owner, url: str) -> None:
    make_customer(owner)
    response = Client().get(url, **bearer(owner))
    assert response.status_code in (404, 422)


def test_a_token_speaks_its_user_s_language(owner: User) -> None:
    # given a salesperson who chose English, working through a token (no session)
    owner.language = "en"
    owner.save(update_fields=["language"])
    headers = bearer(owner)

    # when the API refuses a customer, an address that names nothing and a fractional id
    refused = post_json(Client(), "/api/customers", issue_payload(tax_id="B12345675"), **headers)
    missing = Client().get("/api/customers/999999", **headers)
    fraction = post_json(Client(), "/api/duplicates/1/merge", {"survivor": 1.5}, **headers)

    # then each answer is in English, the site's language being Spanish
    assert refused.status_code == 422
    assert "check digit" in refused.json()["detail"][0]["msg"]
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    assert missing["Content-Language"] == "en"
    assert fraction.status_code == 422
    assert "Enter a whole number." in [e["msg"] for e in fraction.json()["detail"]]


def test_an_address_that_names_nothing_answers_in_spanish_by_default(owner: User) -> None:
    # given a salesperson without a language of their own, through a token
    response = Client().get("/api/customers/999999", **bearer(owner))

    # then the 404 is JSON in the site's language
    assert (response.status_code, response.json()) == (404, {"detail": "No encontrado."})
    assert response["Content-Language"] == "es"


def test_a_method_an_address_does_not_take_answers_json(owner: User) -> None:
    # given a salesperson working through the browser session, the site speaking Spanish
    client = client_for(owner)
    customer = make_customer(owner)

    # when they send methods the API's addresses do not offer
    deleted = client.delete("/api/customers")
    put = client.put(f"/api/customers/{customer.pk}/notes")

    # then each answer is a JSON 405 that says which methods the address takes
    assert deleted.status_code == 405
    assert deleted["Content-Type"] == "application/json; charset=utf-8"
    assert set(deleted["Allow"].split(", ")) == {"GET", "POST"}
    assert deleted.json()["detail"].startswith("Esta dirección no admite peticiones DELETE")
    assert put.status_code == 405
    assert "PUT" in put.json()["detail"]
    # and pages outside the API keep Django's own answer
    page = client.get(f"/customers/{customer.pk}/archive/")
    assert (page.status_code, page["Content-Type"]) == (405, "text/html; charset=utf-8")
