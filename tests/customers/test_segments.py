"""Segments: the list's filters saved under a name, private or shared, never showing more."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.customers import segments
from cartera.customers.filters import CustomerFilter
from cartera.customers.models import Customer, Segment, Tag
from cartera.customers.segments import SegmentInvalid, clean_query
from tests.conftest import bearer, client_for, make_customer, make_lead, valid_cif

pytestmark = pytest.mark.django_db


def _client(
    owner: User, name: str, *, town: str = "Madrid", postal: str = "28013", **kw: Any
) -> Customer:
    address = {
        "type": "fiscal", "street": "Calle Mayor", "postal_code": postal, "municipality": town,
        "country": "ES",
    }  # fmt: skip
    return make_customer(
        owner, legal_name=name, tax_id=valid_cif(abs(hash(name)) % 9_999_999),
        addresses=[address], **kw,
    )  # fmt: skip


# --- The filters a segment needs ---------------------------------------------------------


def _matching(user: User, query: str) -> set[str]:
    form = CustomerFilter(data=QueryDict(query), user=user)
    assert form.is_valid(), form.errors
    return {c.legal_name for c in form.apply(Customer.objects.visible_to(user))}


def test_filters_by_municipality_and_postal_code_range(owner: User) -> None:
    # given customers in three towns
    _client(owner, "Madrid Uno", town="Madrid", postal="28013")
    _client(owner, "Getafe Dos", town="Getafe", postal="28901")
    _client(owner, "Sevilla Tres", town="Sevilla", postal="41001")
    # then the town matches whatever its case, and the postal codes by range
    assert _matching(owner, "municipality=madrid") == {"Madrid Uno"}
    assert _matching(owner, "postal_code_from=28000&postal_code_to=28999") == {
        "Madrid Uno",
        "Getafe Dos",
    }
    assert _matching(owner, "postal_code_from=41000") == {"Sevilla Tres"}


def test_the_postal_code_range_can_look_at_the_fiscal_address_only(owner: User) -> None:
    shipping = {"type": "shipping", "postal_code": "08001", "municipality": "Barcelona",
                "country": "ES", "street": "Rambla"}  # fmt: skip
    customer = _client(owner, "Envía a Barcelona", postal="28013")
    from cartera.customers import services
    from cartera.customers.validation import address_as_dict

    fiscal = address_as_dict(customer.addresses.get())
    services.update_customer(customer=customer, data={"addresses": [fiscal, shipping]}, by=owner)
    assert _matching(owner, "municipality=Barcelona") == {"Envía a Barcelona"}
    assert _matching(owner, "municipality=Barcelona&address_type=fiscal") == set()


def test_filters_by_profile_and_several_tags(owner: User) -> None:
    # given a person and an organisation with different tags and sizes
    _client(owner, "Grande SA", size="large", tags=["vip", "norte"])
    _client(owner, "Pequeña SL", size="micro", tags=["norte"])
    make_lead(owner, "Sin etiquetas")
    # then several tags mean "any of them", and the profile fields narrow
    assert _matching(owner, "tag=vip&tag=norte") == {"Grande SA", "Pequeña SL"}
    assert _matching(owner, "tag=vip") == {"Grande SA"}
    assert _matching(owner, "size=micro") == {"Pequeña SL"}
    assert _matching(owner, "kind=organization&activity=never") == {
        "Grande SA",
        "Pequeña SL",
        "Sin etiquetas",
    }
    fiscal_type = Customer.objects.get(legal_name="Grande SA").fiscal_type_id
    assert _matching(owner, f"fiscal_type={fiscal_type}") == {"Grande SA", "Pequeña SL"}


def test_one_tag_from_the_api_still_filters(owner: User) -> None:
    _client(owner, "Etiquetada", tags=["vip"])
    make_lead(owner, "Sin etiqueta")
    response = client_for(owner).get("/api/customers?tag=vip")
    assert [r["legal_name"] for r in response.json()["results"]] == ["Etiquetada"]


# --- Saving and opening segments -------------------------------------------------------------


def test_clean_query_keeps_only_filters() -> None:
    assert clean_query("?stage=client&page=3&sort=-name&q=&tag=a&tag=b&segment=4") == (
        "stage=client&tag=a&tag=b"
    )


def test_a_salesperson_saves_the_list_filters_and_opens_them(owner: User) -> None:
    # given a salesperson on a filtered list
    _client(owner, "Cliente Madrid")
    make_lead(owner, "Lead Madrid")
    client = client_for(owner)
    # when they save it as a segment (the page number and sort are not part of it)
    response = client.post(
        "/customers/segments/new/", {"name": "Clientes", "query": "stage=client&page=2&sort=code"}
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert segment.query == "stage=client" and segment.owner == owner and not segment.shared
    # then opening it is the list with those filters
    opened = client.get(f"/customers/segments/{segment.pk}/", follow=True)
    names = [c.legal_name for c in opened.context["page"].object_list]
    assert names == ["Cliente Madrid"]
    assert opened.context["segment"] == segment


def test_saving_without_a_name_or_filters_is_refused(owner: User) -> None:
    client = client_for(owner)
    assert (
        client.post("/customers/segments/new/", {"name": "", "query": "stage=client"}).status_code
        == 422
    )
    assert (
        client.post("/customers/segments/new/", {"name": "Todo", "query": "page=2"}).status_code
        == 422
    )
    assert not Segment.objects.exists()
    with pytest.raises(SegmentInvalid) as error:
        segments.create_segment(name="x" * 101, query="stage=lead", by=owner)
    assert "name" in error.value.messages_by_field


def test_a_segment_with_a_filter_the_list_refuses_is_not_saved(owner: User) -> None:
    # when a segment is saved with a stage that does not exist, on the page and by the API
    page = client_for(owner).post(
        "/customers/segments/new/", {"name": "Clientes", "query": "stage=clientes"}
    )
    api = client_for(owner).post(
        "/api/segments",
        json.dumps({"name": "Clientes", "query": "stage=clientes"}),
        content_type="application/json",
        **bearer(owner),
    )

    # then both are refused, naming the filter, and nothing is saved
    assert page.status_code == 422 and "Etapa: Elige una opción válida" in page.content.decode()
    assert api.status_code == 422
    assert api.json()["detail"][0]["loc"] == ["body", "query", "stage"]
    assert api.json()["detail"][0]["msg"].startswith("Etapa: ")
    assert not Segment.objects.exists()


def test_a_segment_whose_filter_is_refused_is_never_taken_as_the_whole_list(
    owner: User, teammate: User
) -> None:
    # given a shared segment of one salesperson's customers, saved by a manager who sees them
    _client(owner, "De Olga")
    _client(teammate, "De Otro")
    segment = Segment.objects.create(
        name="De Olga", query=f"owner={owner.pk}", shared=True, owner=owner
    )
    Segment.objects.filter(pk=segment.pk).update(query="owner=999999")  # that person is gone

    # when it is listed by the API, exported, or changed in bulk as a whole
    listed = client_for(teammate).get(f"/api/segments/{segment.pk}/customers")
    exported = client_for(teammate).get(f"/api/segments/{segment.pk}/export")
    bulk = client_for(teammate).post(
        "/api/customers/bulk",
        json.dumps({"action": "add_tag", "params": {"tag": "x"}, "all": True,
                    "query": "owner=999999"}),
        content_type="application/json",
    )  # fmt: skip

    # then each is refused naming the filter, rather than taken as the whole list
    assert listed.status_code == 422 and listed.json()["detail"][0]["loc"] == [
        "segment", "query", "owner",
    ]  # fmt: skip
    assert exported.status_code == 422 and exported.json()["detail"][0]["loc"] == [
        "segment", "query", "owner",
    ]  # fmt: skip
    assert bulk.status_code == 422 and bulk.json()["detail"][0]["loc"] == [
        "body", "query", "owner",
    ]  # fmt: skip
    assert not Tag.objects.filter(name="x").exists()


@pytest.mark.parametrize(
    ("query", "name", "said"),
    [
        ("stge=client", "stge", "stge: No existe ese filtro."),
        ("follow_up=si", "follow_up", "Seguimiento: Elige sí o no."),
        ("cf_zona=norte", "cf_zona", "cf_zona: No existe ese filtro."),  # no such custom field
    ],
)
def test_a_misspelt_filter_or_an_answer_other_than_yes_or_no_is_refused(
    owner: User, manager: User, query: str, name: str, said: str
) -> None:
    # given customers, and a filter the list does not know, or a yes/no one answered otherwise
    make_lead(owner, "Uno")
    make_lead(owner, "Dos")

    # when everyone matching it is to be changed, or it is saved as a segment
    bulk = client_for(manager).post(
        "/api/customers/bulk",
        json.dumps({"action": "add_tag", "params": {"tag": "x"}, "all": True, "query": query}),
        content_type="application/json",
    )
    saved = client_for(owner).post("/customers/segments/new/", {"name": "S", "query": query})

    # then both are refused naming it, rather than read as no filter: nothing changes
    assert bulk.status_code == 422 and bulk.json()["detail"][0]["loc"] == ["body", "query", name]
    assert saved.status_code == 422 and said in saved.content.decode()
    assert not Tag.objects.filter(name="x").exists() and not Segment.objects.exists()


def test_the_list_says_a_yes_or_no_filter_was_not_understood(owner: User) -> None:
    page = client_for(owner).get("/customers/?follow_up=si")
    assert page.context["filter"].errors["follow_up"] == ["Elige sí o no."]
    assert client_for(owner).get("/customers/?follow_up=true").context["filter"].is_valid()


def test_a_segment_whose_filter_one_may_not_use_opens_empty_and_says_why(
    owner: User, teammate: User
) -> None:
    # given a shared segment of one person's customers, whose owner filter is gone
    _client(owner, "De Olga")
    segment = Segment.objects.create(
        name="De nadie", query="owner=999999", shared=True, owner=owner
    )

    # when a teammate opens it
    page = client_for(teammate).get(f"/customers/segments/{segment.pk}/", follow=True)

    # then the list shows no one, and says which filter could not be used
    assert list(page.context["page"].object_list) == []
    html = page.content.decode()
    assert 'id="segment-refused"' in html and "Responsable: Elige una opción válida" in html
    assert 'id="segment-save"' not in html  # saving them again would be refused
    # while the same filters without the segment are the list's, which ignores what it refuses
    plain = client_for(teammate).get("/customers/?owner=999999")
    assert [c.legal_name for c in plain.context["page"].object_list] == ["De Olga"]


def test_a_private_segment_is_not_found_by_others(
    owner: User, teammate: User, manager: User
) -> None:
    # given a private segment of a salesperson
    segment = segments.create_segment(name="Mío", query="stage=lead", by=owner)
    # then nobody else finds it by id, in the UI or the API
    for other in (teammate, manager):
        client = client_for(other)
        assert client.get(f"/customers/segments/{segment.pk}/").status_code == 404
        assert client.get(f"/customers/segments/{segment.pk}/edit/").status_code == 404
        assert client.post(f"/customers/segments/{segment.pk}/delete/").status_code == 404
        assert client.get(f"/api/segments/{segment.pk}").status_code == 404
        assert client.get(f"/api/segments/{segment.pk}/customers").status_code == 404
        assert segment.name not in client.get("/customers/segments/").content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_a_shared_segment_never_shows_more_than_the_reader_may_see(
    team_visibility: Any, owner: User, outsider: User, manager: User
) -> None:
    # given a manager's shared segment of every client, in a company where each team sees its own
    _client(owner, "Del Norte")
    _client(outsider, "Del Sur")
    segment = segments.create_segment(
        name="Clientes", query="stage=client", shared=True, by=manager
    )

    # when each salesperson opens it
    def names(user: User) -> set[str]:
        page = client_for(user).get(f"/customers/segments/{segment.pk}/", follow=True)
        return {c.legal_name for c in page.context["page"].object_list}

    # then each sees only their own part of it
    assert names(owner) == {"Del Norte"}
    assert names(outsider) == {"Del Sur"}
    assert names(manager) == {"Del Norte", "Del Sur"}
    api = client_for(outsider).get(f"/api/segments/{segment.pk}/customers").json()
    assert [r["legal_name"] for r in api["results"]] == ["Del Sur"] and api["count"] == 1


def test_only_the_owner_renames_and_managers_delete_shared_ones(
    owner: User, teammate: User, manager: User
) -> None:
    shared = segments.create_segment(name="Compartido", query="stage=lead", shared=True, by=owner)
    # a colleague may open it but not rename or delete it
    colleague = client_for(teammate)
    assert colleague.get(f"/customers/segments/{shared.pk}/edit/").status_code == 403
    assert (
        colleague.post(f"/customers/segments/{shared.pk}/edit/", {"name": "Otro"}).status_code
        == 403
    )
    assert colleague.post(f"/customers/segments/{shared.pk}/delete/").status_code == 403
    # the owner renames it
    response = client_for(owner).post(
        f"/customers/segments/{shared.pk}/edit/", {"name": "Leads", "shared": "on"}
    )
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.name == "Leads" and shared.query == "stage=lead"
    # a manager may delete a shared one
    assert client_for(manager).post(f"/customers/segments/{shared.pk}/delete/").status_code == 302
    assert not Segment.objects.filter(pk=shared.pk).exists()


def test_the_segments_page_lists_own_and_shared_with_their_filters(
    owner: User, teammate: User
) -> None:
    segments.create_segment(name="Mis leads", query="stage=lead&follow_up=true", by=owner)
    segments.create_segment(name="De Tomás", query="stage=client", by=teammate)
    segments.create_segment(name="Para todos", query="stage=client", shared=True, by=teammate)
    owner.language = "en"
    owner.save()
    page = client_for(owner).get("/customers/segments/").content.decode()
    assert "Mis leads" in page and "Para todos" in page and "De Tomás" not in page
    assert "Stage: Lead" in page and "Follow-up: Yes" in page


def test_the_segments_page_has_a_fixed_query_count(owner: User) -> None:
    group = Tag.objects.create(name="vip")
    segments.create_segment(name="S0", query=f"stage=lead&tag={group.name}", by=owner)
    client = client_for(owner)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/customers/segments/").status_code == 200
    for i in range(1, 8):
        segments.create_segment(name=f"S{i}", query=f"stage=client&tag={group.name}", by=owner)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/customers/segments/").status_code == 200
    assert len(many) == len(few)


def test_the_list_keeps_a_fixed_query_count_with_segments_and_bulk_bar(manager: User) -> None:
    client = client_for(manager)
    for i in range(2):
        _client(manager, f"Cliente {i}", tags=["vip"])
    segments.create_segment(name="Uno", query="stage=client", by=manager)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/customers/?stage=client&tag=vip&municipality=Madrid").status_code == 200
    for i in range(2, 9):
        _client(manager, f"Cliente {i}", tags=["vip"])
        segments.create_segment(name=f"Otro {i}", query="stage=lead", by=manager)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/customers/?stage=client&tag=vip&municipality=Madrid")
    assert len(response.context["page"].object_list) == 9
    assert len(many) == len(few)


# --- API --------------------------------------------------------------------------------------


def test_segments_api_crud(owner: User, teammate: User) -> None:
    headers = bearer(owner)
    client = client_for(owner)
    created = client.post(
        "/api/segments",
        json.dumps({"name": "API", "query": "stage=lead&page=4"}),
        content_type="application/json",
        **headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["query"] == "stage=lead" and body["mine"] is True
    pk = body["id"]
    patched = client.patch(
        f"/api/segments/{pk}", json.dumps({"name": "Renombrado", "shared": True}),
        content_type="application/json", **headers,
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json()["shared"] is True
    # a colleague sees the shared one, may not change it
    other = client_for(teammate)
    assert [s["name"] for s in other.get("/api/segments").json()] == ["Renombrado"]
    refused = other.patch(
        f"/api/segments/{pk}", json.dumps({"name": "Mío"}), content_type="application/json",
        **bearer(teammate),
    )  # fmt: skip
    assert refused.status_code == 403
    assert other.delete(f"/api/segments/{pk}", **bearer(teammate)).status_code == 403
    # bad input names the field
    bad = client.post(
        "/api/segments", json.dumps({"name": " ", "query": "stage=lead"}),
        content_type="application/json", **headers,
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.delete(f"/api/segments/{pk}", **headers).status_code == 204
    assert not Segment.objects.exists()


def test_segment_customers_api_is_paginated_with_a_fixed_query_count(owner: User) -> None:
    for i in range(3):
        make_lead(owner, f"Lead {i}")
    segment = segments.create_segment(name="Leads", query="stage=lead", by=owner)
    client = client_for(owner)
    url = f"/api/segments/{segment.pk}/customers?page_size=2"
    with CaptureQueriesContext(connection) as few:
        first = client.get(url).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    for i in range(3, 9):
        make_lead(owner, f"Lead {i}")
    with CaptureQueriesContext(connection) as many:
        second = client.get(f"/api/segments/{segment.pk}/customers?page_size=9").json()
    assert len(second["results"]) == 9
    assert len(many) == len(few)
