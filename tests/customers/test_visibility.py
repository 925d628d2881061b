"""Who sees and who changes which customer: querysets, pages and API, CSRF and escaping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.core.models import Company
from cartera.customers.models import Customer
from tests.conftest import (
    bearer,
    client_for,
    make_customer,
    make_lead,
    valid_cif,
)

XSS = "<script>alert(1)</script>"


@pytest.fixture
def customer(owner: User) -> Customer:
    """A client owned by the owner (team Norte)."""
    return make_customer(owner)


def _lead_form(owner: User, name: str = "Nuevo Lead") -> dict[str, str]:
    """A valid post of the reduced form for a lead with an e-mail."""
    return {
        "kind": "organization",
        "legal_name": name,
        "stage": "lead",
        "owner": str(owner.pk),
        "fiscal-type": "fiscal",
        "fiscal-country": "ES",
        "quick-email": "hola@nuevo.example",
    }


def _json_body(**overrides: Any) -> str:
    data = {
        "kind": "organization",
        "legal_name": "Lead por API",
        "stage": "lead",
        "channels": [{"type": "email", "value": "api@lead.example"}],
    }
    data.update(overrides)
    return json.dumps(data)


def _call(client: Client, method: str, url: str, body: str = "") -> Any:
    """Send a request; JSON body only for methods that carry one."""
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body, content_type="application/json")


# --- The queryset rule ---------------------------------------------------------------------


def test_default_mode_lets_every_salesperson_see_every_customer(
    customer: Customer, outsider: User
) -> None:
    # given the default visibility (all), when an outsider lists customers
    assert Company.load().visibility_mode == "all"
    seen = list(Customer.objects.visible_to(outsider))

    # then they see the owner's customer, in the queryset and in the list page
    assert seen == [customer]
    page = client_for(outsider).get("/customers/")
    assert page.status_code == 200
    assert customer.code in page.content.decode()


def test_team_mode_limits_salespeople_to_their_team(
    team_visibility: Company,
    customer: Customer,
    owner: User,
    teammate: User,
    outsider: User,
    manager: User,
    admin_user: User,
) -> None:
    # given team visibility and a customer of the team Norte, plus one of the outsider's
    own = make_lead(outsider, "Cliente del Sur")

    # when each user asks what they may see
    def seen(user: User) -> set[int]:
        return set(Customer.objects.visible_to(user).values_list("pk", flat=True))

    # then the team sees its customer, the outsider only theirs, managers and admins all
    assert seen(owner) == seen(teammate) == {customer.pk}
    assert seen(outsider) == {own.pk}
    assert Customer.objects.visible_to(outsider).filter(pk=customer.pk).count() == 0
    assert seen(manager) == seen(admin_user) == {customer.pk, own.pk}


def test_team_mode_reader_sees_only_their_team(
    team_visibility: Company, customer: Customer, reader: User, owner: User
) -> None:
    # given a read-only user without a team, the rule is: own customers, then the team's
    assert reader.team_id is None
    assert Customer.objects.visible_to(reader).count() == 0

    # when the reader joins the owner's team
    reader.team = owner.team
    reader.save()

    # then they see the team's customer
    assert list(Customer.objects.visible_to(reader)) == [customer]


def test_default_mode_reader_sees_everything(customer: Customer, reader: User) -> None:
    # given the default mode, when a read-only user lists customers, then they see them all
    assert list(Customer.objects.visible_to(reader)) == [customer]


def test_inactive_and_anonymous_users_see_nothing(customer: Customer, manager: User) -> None:
    # given a manager who has left the company
    manager.is_active = False
    manager.save()

    # when asking what they and an anonymous visitor see, then nothing
    assert Customer.objects.visible_to(manager).count() == 0
    assert Customer.objects.visible_to(AnonymousUser()).count() == 0


# --- Pages and API in team mode ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/customers/{pk}/"),
        ("get", "/customers/{pk}/edit/"),
        ("post", "/customers/{pk}/edit/"),
        ("post", "/customers/{pk}/archive/"),
        ("get", "/api/customers/{pk}"),
        ("patch", "/api/customers/{pk}"),
        ("delete", "/api/customers/{pk}"),
        ("post", "/api/customers/{pk}/restore"),
    ],
)
def test_team_mode_outsider_gets_404_everywhere(
    team_visibility: Company, customer: Customer, outsider: User, method: str, url: str
) -> None:
    # given team visibility and another team's customer
    client = client_for(outsider)

    # when the outsider opens or changes it by id
    response = _call(client, method, url.format(pk=customer.pk), json.dumps({"notes": "x"}))

    # then it does not exist for them, and nothing changed
    assert response.status_code == 404
    customer.refresh_from_db()
    assert (customer.notes, customer.archived_at, customer.version) == ("", None, 1)


def test_team_mode_outsider_does_not_find_it_in_lists(
    team_visibility: Company, customer: Customer, outsider: User
) -> None:
    # given team visibility
    client = client_for(outsider)

    # when the outsider lists and searches
    page = client.get("/customers/", {"q": "munoz"})
    api = client.get("/api/customers", {"search": "munoz"})

    # then the customer is not there
    assert customer.code not in page.content.decode()
    assert api.json()["count"] == 0


def test_team_mode_duplicate_of_an_invisible_customer_has_no_link(
    team_visibility: Company, customer: Customer, outsider: User
) -> None:
    # given a customer the outsider cannot see
    client = client_for(outsider)

    # when the outsider checks its CIF
    body = client.get("/api/tax-ids/check", {"country": "ES", "value": customer.tax_id}).json()

    # then the duplicate is reported, without a link to it
    assert body["duplicate_of"]["id"] == customer.pk
    assert body["duplicate_of"]["url"] is None


def test_team_mode_teammate_can_view_and_edit(
    team_visibility: Company, customer: Customer, teammate: User
) -> None:
    # given a teammate of the owner
    client = client_for(teammate)

    # when they open the ficha and the edit page, and patch through the API
    detail = client.get(f"/customers/{customer.pk}/")
    edit = client.get(f"/customers/{customer.pk}/edit/")
    patch = client.patch(
        f"/api/customers/{customer.pk}",
        json.dumps({"notes": "Visitado"}),
        content_type="application/json",
    )

    # then all work
    assert (detail.status_code, edit.status_code, patch.status_code) == (200, 200, 200)
    customer.refresh_from_db()
    assert customer.notes == "Visitado"


# --- Default mode: outsiders may look but not touch -------------------------------------------


def test_default_mode_outsider_can_view_but_not_edit(customer: Customer, outsider: User) -> None:
    # given the default mode and another team's customer
    client = client_for(outsider)

    # when the outsider opens it, then tries to edit, patch, delete and archive it
    detail = client.get(f"/customers/{customer.pk}/")
    edit_page = client.get(f"/customers/{customer.pk}/edit/")
    edit_post = client.post(f"/customers/{customer.pk}/edit/", {"legal_name": "Robado SL"})
    patch = client.patch(
        f"/api/customers/{customer.pk}",
        json.dumps({"notes": "hackeado"}),
        content_type="application/json",
    )
    delete = client.delete(f"/api/customers/{customer.pk}")
    archive = client.post(f"/customers/{customer.pk}/archive/")

    # then they can read it but every change is forbidden and nothing changed
    assert detail.status_code == 200
    assert customer.legal_name in detail.content.decode()
    assert [r.status_code for r in (edit_page, edit_post, patch, delete, archive)] == [403] * 5
    customer.refresh_from_db()
    assert (customer.legal_name, customer.notes) == ("Muñoz y Asociados SL", "")
    assert (customer.archived_at, customer.version) == (None, 1)


def test_ficha_offers_editing_only_to_who_may_edit(customer: Customer, outsider: User) -> None:
    # given the default mode, when an outsider and the owner open the ficha
    edit_url = f"/customers/{customer.pk}/edit/"
    outsider_page = client_for(outsider).get(f"/customers/{customer.pk}/").content.decode()
    owner_page = client_for(customer.owner).get(f"/customers/{customer.pk}/").content.decode()

    # then only the owner sees the edit link
    assert edit_url in owner_page
    assert edit_url not in outsider_page


# --- Read-only users ------------------------------------------------------------------------


def test_reader_cannot_create_in_the_ui(owner: User, reader: User) -> None:
    # given a valid reduced form that a salesperson can post
    assert client_for(owner).post("/customers/new/", _lead_form(owner)).status_code == 302
    assert Customer.objects.count() == 1

    # when a read-only user opens and posts it
    page = client_for(reader).get("/customers/new/")
    post = client_for(reader).post("/customers/new/", _lead_form(owner, "Otro Lead"))

    # then both are forbidden and nothing more is created
    assert (page.status_code, post.status_code) == (403, 403)
    assert Customer.objects.count() == 1


def test_reader_cannot_create_through_the_api(reader: User) -> None:
    # given a read-only user with a session and with a write-scoped token
    session = client_for(reader)

    # when they post a lead both ways
    by_session = session.post("/api/customers", _json_body(), content_type="application/json")
    by_token = Client().post(
        "/api/customers", _json_body(), content_type="application/json", **bearer(reader)
    )

    # then both are forbidden and nothing is created
    assert (by_session.status_code, by_token.status_code) == (403, 403)
    assert Customer.objects.count() == 0


def test_reader_cannot_edit_or_archive(customer: Customer, reader: User) -> None:
    # given a read-only user who can see the customer
    client = client_for(reader)
    assert client.get(f"/customers/{customer.pk}/").status_code == 200

    # when they try to change it
    responses = [
        client.get(f"/customers/{customer.pk}/edit/"),
        client.post(f"/customers/{customer.pk}/archive/"),
        client.patch(
            f"/api/customers/{customer.pk}",
            json.dumps({"notes": "x"}),
            content_type="application/json",
        ),
        client.delete(f"/api/customers/{customer.pk}"),
    ]

    # then every change is forbidden
    assert [r.status_code for r in responses] == [403] * 4
    customer.refresh_from_db()
    assert (customer.notes, customer.archived_at) == ("", None)


# --- CSRF and authentication -----------------------------------------------------------------


def test_api_post_with_session_and_no_csrf_token_is_refused(owner: User) -> None:
    # given a browser session that enforces CSRF
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    # when it posts to the API without the CSRF token
    response = client.post("/api/customers", _json_body(), content_type="application/json")

    # then it is forbidden and nothing is created
    assert response.status_code == 403
    assert Customer.objects.count() == 0


def test_api_post_with_session_and_csrf_token_works(owner: User) -> None:
    # given a browser session that enforces CSRF and has the token from a page
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get("/customers/new/")
    token = client.cookies["csrftoken"].value

    # when it posts to the API with the token
    response = client.post(
        "/api/customers", _json_body(), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    # then it is created
    assert response.status_code == 201, response.content
    assert Customer.objects.count() == 1


def test_api_post_with_a_bearer_token_needs_no_csrf(owner: User) -> None:
    # given an integration that enforces CSRF checks but has no session
    client = Client(enforce_csrf_checks=True)

    # when it posts with its token
    response = client.post(
        "/api/customers", _json_body(), content_type="application/json", **bearer(owner)
    )

    # then it is created
    assert response.status_code == 201, response.content
    assert Customer.objects.get().owner == owner


def test_ui_form_post_without_csrf_token_is_refused(owner: User) -> None:
    # given a browser session that enforces CSRF
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    # when the new-customer form is posted without the token
    response = client.post("/customers/new/", _lead_form(owner))

    # then it is forbidden and nothing is created
    assert response.status_code == 403
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["/customers/", "/customers/new/", "/customers/{pk}/", "/customers/{pk}/edit/"]
)
def test_anonymous_user_is_sent_to_login(customer: Customer, url: str) -> None:
    # given an anonymous visitor, when they open a page
    path = url.format(pk=customer.pk)
    response = Client().get(path)

    # then they are redirected to the login page, coming back afterwards
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "next=" in response["Location"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/customers"),
        ("post", "/api/customers"),
        ("get", "/api/customers/{pk}"),
        ("patch", "/api/customers/{pk}"),
        ("delete", "/api/customers/{pk}"),
        ("get", "/api/tax-ids/check?value=B12345674&country=ES"),
    ],
)
def test_anonymous_api_call_is_401(customer: Customer, method: str, url: str) -> None:
    # given no credentials, when the API is called
    response = _call(Client(), method, url.format(pk=customer.pk), _json_body())

    # then it is unauthorised and nothing changes
    assert response.status_code == 401
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert customer.archived_at is None


# --- Escaping ---------------------------------------------------------------------------------


def test_names_are_escaped_on_the_list_and_the_ficha(owner: User) -> None:
    # given a customer whose name is a script
    customer = make_customer(owner, legal_name=XSS, trade_name=XSS + " SL")
    client = client_for(owner)

    # when the list and the ficha are shown
    pages = [
        client.get("/customers/").content.decode(),
        client.get(f"/customers/{customer.pk}/").content.decode(),
    ]

    # then the name appears escaped, never as markup
    for html in pages:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert XSS not in html


# --- The list page costs a fixed number of queries -----------------------------------------------


def test_list_page_costs_the_same_queries_for_3_and_15_customers(
    owner: User, django_assert_num_queries: Any
) -> None:
    # given 3 customers with channels, addresses, contacts and tags
    client = client_for(owner)

    def add(numbers: range) -> None:
        for n in numbers:
            make_customer(
                owner,
                legal_name=f"Cliente {n:02d}",
                tax_id=valid_cif(3000 + n),
                contacts=[{"first_name": "Ana", "email": f"ana{n}@cliente.example"}],
                tags=["vip"],
            )

    add(range(3))
    client.get("/customers/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/customers/").status_code == 200

    # when there are 15
    add(range(3, 15))

    # then the page makes exactly as many queries
    with django_assert_num_queries(len(few)):
        response = client.get("/customers/")
    assert response.content.decode().count("Cliente ") >= 15
