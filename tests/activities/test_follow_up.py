"""Follow-up lists, and the hand-over of a leaving person's customers and open tasks."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.activities import follow_up
from cartera.activities.models import FollowUpEntry, FollowUpList, Task
from cartera.activities.services import create_task
from cartera.customers.models import Customer
from tests.conftest import client_for, make_lead

pytestmark = pytest.mark.django_db


def _task(customer: Customer, assignee: User, by: User, **extra: Any) -> Task:
    data = {
        "type": "call",
        "subject": f"Llamar a {customer.legal_name}",
        "due_date": datetime.date(2026, 3, 1),
        "assignee": assignee,
        **extra,
    }
    return create_task(customer=customer, data=data, by=by)


# --- Lists -------------------------------------------------------------------------------------


def test_a_salesperson_creates_a_list_and_fills_it_from_the_customer_list(owner: User) -> None:
    # given a salesperson with three leads
    first, second, _third = (make_lead(owner, f"Lead {i}") for i in range(3))
    client = client_for(owner)
    # when they create a list and add two leads to it with the bulk action
    assert client.post("/follow-up/", {"name": "Llamar en marzo"}).status_code == 302
    item = FollowUpList.objects.get()
    response = client.post(
        "/customers/bulk/",
        {"action": "add_to_follow_up_list", "step": "confirm", "ids": [first.pk, second.pk],
         "follow_up_list": item.pk},
    )  # fmt: skip
    assert response.status_code == 302
    # then the list holds them, and the customer list filters by it
    assert set(item.customers.all()) == {first, second}
    listed = client.get(f"/follow-up/{item.pk}/", follow=True)
    assert {c.pk for c in listed.context["page"].object_list} == {first.pk, second.pk}
    # and adding them again changes nothing
    again = client.post(
        "/customers/bulk/",
        {"action": "add_to_follow_up_list", "step": "preview", "ids": [first.pk],
         "follow_up_list": item.pk},
    )  # fmt: skip
    assert again.context["preview"].changing == 0


def test_someone_elses_private_list_is_not_found_nor_usable(
    owner: User, teammate: User, manager: User
) -> None:
    private = follow_up.create_list(name="Privada", by=owner)
    customer = make_lead(teammate)
    for other in (teammate, manager):
        client = client_for(other)
        assert client.get(f"/follow-up/{private.pk}/").status_code == 404
        assert client.get(f"/follow-up/{private.pk}/edit/").status_code == 404
        assert client.post(f"/follow-up/{private.pk}/delete/").status_code == 404
        assert "Privada" not in client.get("/follow-up/").content.decode()
        # nor as a filter of the list, nor in a bulk action
        refused = client.get(f"/customers/?follow_up_list={private.pk}")
        assert "follow_up_list" in refused.context["filter"].errors
        bulk = client.post(
            "/customers/bulk/",
            {"action": "add_to_follow_up_list", "step": "confirm", "ids": [customer.pk],
             "follow_up_list": private.pk},
        )  # fmt: skip
        assert bulk.status_code == 422
    assert not FollowUpEntry.objects.exists()


def test_a_shared_list_counts_only_what_each_one_sees(
    team_visibility: Any, owner: User, outsider: User, manager: User
) -> None:
    shared = follow_up.create_list(name="Compartida", by=manager, shared=True)
    follow_up.add_entries(
        follow_up_list=shared, ids=[make_lead(owner).pk, make_lead(outsider, "Sur").pk], by=manager
    )
    sizes = {
        user.username: [i.size for i in follow_up.lists_with_counts(user)]
        for user in (owner, outsider, manager)
    }
    assert sizes == {"olga": [1], "oscar": [1], "marta": [2]}
    # a colleague may open it, not rename it; a manager may delete it
    assert client_for(owner).post(f"/follow-up/{shared.pk}/edit/", {"name": "X"}).status_code == 403
    assert client_for(owner).post(f"/follow-up/{shared.pk}/delete/").status_code == 403
    assert client_for(manager).post(f"/follow-up/{shared.pk}/delete/").status_code == 302
    assert not FollowUpList.objects.exists()


def test_renaming_and_removing_customers(owner: User, outsider: User, team_visibility: Any) -> None:
    item = follow_up.create_list(name="Lista", by=owner, shared=True)
    mine, theirs = make_lead(owner), make_lead(outsider, "Ajeno")
    follow_up.add_entries(follow_up_list=item, ids=[mine.pk, theirs.pk], by=owner)
    client = client_for(owner)
    assert client.post(f"/follow-up/{item.pk}/edit/", {"name": " "}).status_code == 422
    assert client.post(f"/follow-up/{item.pk}/edit/", {"name": "Nueva"}).status_code == 302
    item.refresh_from_db()
    assert item.name == "Nueva" and not item.shared
    # removing posts both ids; the other team's customer stays
    client.post(f"/follow-up/{item.pk}/remove/", {"ids": [mine.pk, theirs.pk]})
    assert list(item.customers.all()) == [theirs]


def test_the_reader_sees_lists_but_cannot_create_them(reader: User) -> None:
    client = client_for(reader)
    assert client.get("/follow-up/").status_code == 200
    assert client.post("/follow-up/", {"name": "No"}).status_code == 403
    assert not FollowUpList.objects.exists()


def test_the_lists_page_has_a_fixed_query_count(owner: User) -> None:
    client = client_for(owner)
    follow_up.create_list(name="L0", by=owner)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/follow-up/").status_code == 200
    for i in range(1, 8):
        item = follow_up.create_list(name=f"L{i}", by=owner)
        follow_up.add_entries(follow_up_list=item, ids=[make_lead(owner, f"C{i}").pk], by=owner)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/follow-up/").status_code == 200
    assert len(many) == len(few)


# --- Hand-over ---------------------------------------------------------------------------------


def test_the_handover_moves_customers_and_open_tasks_to_the_new_owner(
    owner: User, teammate: User, manager: User
) -> None:
    # given a leaving salesperson with two customers, an open and a done task, a private task
    # and a task on a colleague's customer
    first, second = make_lead(owner, "Uno"), make_lead(owner, "Dos")
    colleagues = make_lead(teammate, "De Tomás")
    open_task = _task(first, owner, owner)
    private = _task(second, owner, owner, private=True)
    on_colleague = _task(colleagues, owner, teammate)
    done = _task(first, owner, owner)
    done.done_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    done.save()
    # when a manager hands everything to the manager themself (customers) without a task receiver
    response = client_for(manager).post(
        "/customers/handover/", {"from_owner": owner.pk, "to_owner": manager.pk}
    )
    # then customers move, and each open task follows its customer's owner
    assert response.status_code == 302
    assert set(Customer.objects.filter(owner=manager)) == {first, second}
    assert Task.objects.get(pk=open_task.pk).assignee == manager
    assert Task.objects.get(pk=private.pk).assignee == manager
    assert Task.objects.get(pk=on_colleague.pk).assignee == teammate
    assert Task.objects.get(pk=done.pk).assignee == owner  # history stays as it was
    assert not Task.objects.open().filter(assignee=owner).exists()


def test_the_handover_can_send_tasks_to_someone_else(
    owner: User, teammate: User, manager: User
) -> None:
    customer = make_lead(owner)
    task = _task(customer, owner, owner)
    client_for(manager).post(
        "/customers/handover/",
        {"from_owner": owner.pk, "to_owner": manager.pk, "work_to": teammate.pk},
    )
    customer.refresh_from_db()
    task.refresh_from_db()
    assert (customer.owner, task.assignee) == (manager, teammate)


def test_someone_with_only_open_tasks_can_be_handed_over(
    owner: User, teammate: User, manager: User
) -> None:
    task = _task(make_lead(teammate), owner, teammate)
    manager.language = "en"
    manager.save()
    client = client_for(manager)
    page = client.get(f"/customers/handover/?from={owner.pk}")
    assert "1 open task" in page.content.decode()
    client.post("/customers/handover/", {"from_owner": owner.pk, "to_owner": teammate.pk})
    task.refresh_from_db()
    assert task.assignee == teammate


def test_deactivating_someone_with_open_tasks_points_to_the_handover(
    admin_user: User, owner: User, teammate: User
) -> None:
    # given a salesperson with no customers but an open task
    task = _task(make_lead(teammate), owner, teammate)
    client = client_for(admin_user)
    form = {"username": owner.username, "first_name": owner.first_name, "last_name": "",
            "email": "", "role": "salesperson", "team": owner.team_id, "language": "",
            "password": ""}  # fmt: skip
    # when the admin deactivates them, it is refused with a link to the hand-over
    refused = client.post(f"/accounts/users/{owner.pk}/", form)
    assert refused.status_code == 422
    assert f"/customers/handover/?from={owner.pk}" in refused.content.decode()
    owner.refresh_from_db()
    assert owner.is_active
    # and after the hand-over it goes through, leaving nothing without someone responsible
    client.post("/customers/handover/", {"from_owner": owner.pk, "to_owner": teammate.pk})
    assert client.post(f"/accounts/users/{owner.pk}/", form).status_code == 302
    task.refresh_from_db()
    assert task.assignee == teammate


def test_the_handover_refuses_a_reader_as_receiver(
    owner: User, manager: User, reader: User
) -> None:
    customer = make_lead(owner)
    response = client_for(manager).post(
        "/customers/handover/", {"from_owner": owner.pk, "to_owner": reader.pk}
    )
    assert response.status_code == 422
    customer.refresh_from_db()
    assert customer.owner == owner
