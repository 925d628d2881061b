"""Bulk actions on the customer list: one confirmed, set-based change to editable customers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.activities.models import LifecycleChange, TimelineEntry
from cartera.audit.models import AuditEvent
from cartera.customers import bulk
from cartera.customers.models import Customer, CustomerGroup, Tag
from tests.conftest import bearer, client_for, make_lead

pytestmark = pytest.mark.django_db


def _leads(owner: User, n: int, prefix: str = "Lead") -> list[Customer]:
    return [make_lead(owner, f"{prefix} {owner.username} {i}") for i in range(n)]


def _post(client: Client, action: str, step: str = "", **data: Any) -> Any:
    body: dict[str, Any] = {"action": action, "query": data.pop("query", "")}
    if step:
        body["step"] = step
    body.update(data)
    return client.post("/customers/bulk/", body)


def test_a_manager_reassigns_ticked_customers_after_confirming(
    owner: User, teammate: User, manager: User
) -> None:
    # given three customers of a salesperson, two of them ticked on the list
    first, second, third = _leads(owner, 3)
    client = client_for(manager)
    ids = [first.pk, second.pk]
    # when the manager starts the action, the page says what is selected
    start = _post(client, "assign_owner", ids=ids)
    assert start.status_code == 200
    assert start.context["preview"].selected == 2
    # and after choosing the new owner it says how many will change
    counted = _post(client, "assign_owner", "preview", ids=ids, owner=teammate.pk)
    assert counted.context["preview"].changing == 2
    assert Customer.objects.filter(owner=teammate).count() == 0  # nothing yet
    # when they confirm
    done = _post(client, "assign_owner", "confirm", ids=ids, owner=teammate.pk)
    # then the two (and only the two) changed, each with a new version and its history line
    assert done.status_code == 302
    assert set(Customer.objects.filter(owner=teammate)) == {first, second}
    third.refresh_from_db()
    assert third.owner == owner
    first.refresh_from_db()
    assert first.version == 2
    event = AuditEvent.objects.filter(customer_id=first.pk, action="bulk_update").get()
    assert event.changes == {"owner": [str(owner), str(teammate)]}
    messages = [str(m) for m in done.wsgi_request._messages]
    assert any("2" in m for m in messages)


def test_a_salesperson_cannot_assign_owners_and_a_reader_nothing(
    owner: User, teammate: User, reader: User
) -> None:
    customer = make_lead(owner)
    refused = _post(
        client_for(owner), "assign_owner", "confirm", ids=[customer.pk], owner=teammate.pk
    )
    assert refused.status_code == 422  # not one of their actions
    assert (
        _post(client_for(reader), "add_tag", "confirm", ids=[customer.pk], tag="x").status_code
        == 403
    )
    api = client_for(reader).post(
        "/api/customers/bulk",
        json.dumps({"action": "add_tag", "params": {"tag": "x"}, "ids": [customer.pk]}),
        content_type="application/json",
    )
    assert api.status_code == 403
    customer.refresh_from_db()
    assert customer.owner == owner and customer.version == 1
    assert not customer.tags.exists()


def test_posted_ids_of_customers_one_may_not_edit_are_left_untouched(
    team_visibility: Any, owner: User, outsider: User
) -> None:
    # given a customer of another team, which the salesperson can neither see nor edit
    mine, theirs = make_lead(owner, "Mío"), make_lead(outsider, "Suyo")
    # when the salesperson posts both ids
    response = _post(client_for(owner), "add_tag", "confirm", ids=[mine.pk, theirs.pk], tag="vip")
    # then only theirs is tagged
    assert response.status_code == 302
    assert list(mine.tags.values_list("name", flat=True)) == ["vip"]
    assert not theirs.tags.exists()
    theirs.refresh_from_db()
    assert theirs.version == 1


def test_all_matching_changes_only_what_the_user_may_edit(
    owner: User, outsider: User, manager: User
) -> None:
    # given a company where everyone sees everyone's customers, but edits only their team's
    _leads(owner, 2)
    _leads(outsider, 2)
    client = client_for(owner)
    # when the salesperson selects all and marks them for follow-up
    start = _post(client, "set_follow_up", all="1", query="stage=lead")
    assert (start.context["preview"].selected, start.context["preview"].editable) == (4, 2)
    _post(client, "set_follow_up", "confirm", all="1", query="stage=lead", follow_up="1")
    # then only their own changed
    assert set(Customer.objects.filter(follow_up=True).values_list("owner", flat=True)) == {
        owner.pk
    }
    assert Customer.objects.filter(follow_up=True).count() == 2


def test_all_matching_follows_the_filters(owner: User) -> None:
    _leads(owner, 2, "Uno")
    other = make_lead(owner, "Otra cosa")
    _post(client_for(owner), "add_tag", "confirm", all="1", query="q=Uno", tag="uno")
    assert Customer.objects.filter(tags__name="uno").count() == 2
    assert not other.tags.exists()


def test_tags_are_added_and_removed_with_history(owner: User) -> None:
    customers = _leads(owner, 2)
    client = client_for(owner)
    ids = [c.pk for c in customers]
    _post(client, "add_tag", "confirm", ids=ids, tag="Feria 2026")
    assert Customer.objects.filter(tags__name="Feria 2026").count() == 2
    # the same tag again changes nothing (same name, other case)
    again = _post(client, "add_tag", "preview", ids=ids, tag="feria 2026")
    assert again.context["preview"].changing == 0
    _post(client, "remove_tag", "confirm", ids=[ids[0]], tag="feria 2026")
    assert list(Customer.objects.filter(tags__name="Feria 2026")) == [customers[1]]
    history = AuditEvent.objects.filter(customer_id=ids[0], action="bulk_update").order_by("id")
    assert [e.changes["tags"] for e in history] == [[[], ["Feria 2026"]], [["Feria 2026"], []]]
    customers[0].refresh_from_db()
    assert customers[0].version == 3


def test_group_is_set_and_cleared(owner: User) -> None:
    group = CustomerGroup.objects.create(name="Mayoristas")
    customers = _leads(owner, 2)
    ids = [c.pk for c in customers]
    client = client_for(owner)
    _post(client, "set_group", "confirm", ids=ids, group=group.pk)
    assert Customer.objects.filter(group=group).count() == 2
    _post(client, "set_group", "confirm", ids=ids, group="")
    assert Customer.objects.filter(group__isnull=False).count() == 0
    changes = AuditEvent.objects.filter(customer_id=ids[0], action="bulk_update").order_by("id")
    assert [e.changes["group"] for e in changes] == [[None, "Mayoristas"], ["Mayoristas", None]]


def test_status_changes_keep_the_lifecycle_log(owner: User) -> None:
    customers = _leads(owner, 2)
    ids = [c.pk for c in customers]
    client = client_for(owner)
    owner.language = "en"
    owner.save()
    # a suspension needs a reason: refused naming the field, nothing changes
    refused = _post(client, "change_status", "confirm", ids=ids, status="suspended")
    assert refused.status_code == 422
    assert "reason" in refused.context["params"].errors
    assert not Customer.objects.filter(status="suspended").exists()
    # with one, each customer changes and its timeline says so
    _post(client, "change_status", "confirm", ids=ids, status="suspended", reason="Impagos")
    assert set(Customer.objects.values_list("status", "status_reason")) == {
        ("suspended", "Impagos")
    }
    change = LifecycleChange.objects.get(customer=customers[0], field="status")
    assert (change.old_value, change.new_value, change.reason) == ("active", "suspended", "Impagos")
    assert TimelineEntry.objects.filter(customer=customers[0], change=change).exists()


def test_more_than_the_limit_is_refused_and_nothing_changes(owner: User, settings: Any) -> None:
    settings.CARTERA_BULK_MAX = 2
    _leads(owner, 3)
    owner.language = "en"
    owner.save()
    response = _post(client_for(owner), "set_follow_up", "confirm", all="1", follow_up="1")
    assert response.status_code == 422
    assert "more than 2 customers" in response.content.decode()
    assert not Customer.objects.filter(follow_up=True).exists()
    with pytest.raises(bulk.BulkInvalid):
        bulk.run_action(
            bulk.get_action("set_follow_up"),  # type: ignore[arg-type]
            customers=Customer.objects.all(),
            params={"follow_up": True},
            by=owner,
        )


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("set_follow_up", {"follow_up": True}),
        ("add_tag", {"tag": "vip"}),
        ("change_status", {"status": "inactive", "reason": ""}),
    ],
)
def test_an_action_runs_a_fixed_number_of_queries(
    owner: User, action: str, params: dict[str, Any]
) -> None:
    def run(prefix: str, n: int) -> int:
        customers = Customer.objects.filter(pk__in=[c.pk for c in _leads(owner, n, prefix)])
        chosen = bulk.get_action(action)
        assert chosen is not None
        with CaptureQueriesContext(connection) as ctx:
            assert bulk.run_action(chosen, customers=customers, params=params, by=owner) == n
        return len(ctx)

    Tag.objects.create(name="vip")  # a new tag is one more query, once
    assert run("Pocos", 2) == run("Muchos", 12)


def test_bulk_api_counts_then_changes(owner: User, teammate: User, manager: User) -> None:
    customers = _leads(owner, 3)
    client = client_for(manager)
    headers = bearer(manager)
    body = {"action": "assign_owner", "params": {"owner": teammate.pk}, "all": True,
            "query": "stage=lead", "dry_run": True}  # fmt: skip
    dry = client.post(
        "/api/customers/bulk", json.dumps(body), content_type="application/json", **headers
    )
    assert dry.status_code == 200 and dry.json()["changed"] == 3
    assert not Customer.objects.filter(owner=teammate).exists()
    body["dry_run"] = False
    done = client.post(
        "/api/customers/bulk", json.dumps(body), content_type="application/json", **headers
    )
    assert done.json()["changed"] == 3
    assert Customer.objects.filter(owner=teammate).count() == len(customers)
    bad = client.post(
        "/api/customers/bulk",
        json.dumps(
            {"action": "assign_owner", "params": {"owner": 999999}, "ids": [customers[0].pk]}
        ),
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "params", "owner"]


def test_the_list_shows_the_bulk_bar_only_to_who_may_change(owner: User, reader: User) -> None:
    make_lead(owner)
    page = client_for(owner).get("/customers/").content.decode()
    assert 'id="bulk"' in page and 'name="ids"' in page
    assert 'value="assign_owner"' not in page  # salespeople do not assign owners
    assert 'id="bulk"' not in client_for(reader).get("/customers/").content.decode()


def test_a_change_to_all_with_a_refused_filter_changes_nothing(
    owner: User, teammate: User, manager: User
) -> None:
    # given leads and a client, and a bulk change to "all the clients" with a stage misspelt
    leads = _leads(owner, 2)
    headers = bearer(manager)
    body = {"action": "assign_owner", "params": {"owner": teammate.pk}, "all": True,
            "query": "stage=clientes"}  # fmt: skip

    # when it is sent by the API, then it is refused naming the filter, and nothing changes
    refused = client_for(manager).post(
        "/api/customers/bulk", json.dumps(body), content_type="application/json", **headers
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "query", "stage"]
    assert "clientes" in refused.json()["detail"][0]["msg"]

    # and from the list, the same
    page = _post(client_for(manager), "assign_owner", "confirm", query="stage=clientes",
                 all="1", owner=teammate.pk)  # fmt: skip
    assert page.status_code == 422 and "Etapa" in page.content.decode()
    assert not Customer.objects.filter(owner=teammate).exists()
    assert all(c.version == 1 for c in Customer.objects.filter(pk__in=[c.pk for c in leads]))
