"""The audit history: every change recorded with who, when, from where and what."""

from __future__ import annotations

import pytest
from django.test import Client

from cartera.accounts.models import User
from cartera.audit.context import audit_source
from cartera.audit.models import Action, AuditEvent, ImmutableHistory
from cartera.customers import services
from cartera.customers.models import Customer
from tests.conftest import bearer, client_for, make_customer

pytestmark = pytest.mark.django_db


def _events(customer: Customer, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_customer(customer.pk).filter(**filters).order_by("id"))


def test_creating_a_customer_records_it_and_its_parts(owner: User) -> None:
    # when a customer is created from the command line
    with audit_source("cli"):
        customer = make_customer(owner)
    # then the history has the customer and each channel and address, attributed
    events = _events(customer, action=Action.CREATE)
    kinds = sorted(e.object_type for e in events)
    assert kinds == ["address", "channel", "channel", "customer"]
    main = next(e for e in events if e.object_type == "customer")
    assert (main.actor, main.source, main.version) == (owner, "cli", 1)
    assert main.changes["legal_name"] == [None, "Muñoz y Asociados SL"]
    assert main.changes["tax_id"] == [None, "B12345674"]


def test_an_update_records_only_what_changed_before_and_after(owner: User) -> None:
    customer = make_customer(owner)
    channel = customer.channels.get(type="phone")
    # when the trade name changes, the phone changes and the e-mail is removed
    services.update_customer(
        customer=customer,
        by=owner,
        data={
            "trade_name": "Muñoz Asesores",
            "channels": [{"id": channel.pk, "type": "phone", "value": "600 99 88 77"}],
        },
    )
    # then three events say exactly that
    update = _events(customer, action=Action.UPDATE, object_type="customer")
    assert [e.changes for e in update] == [{"trade_name": ["", "Muñoz Asesores"]}]
    phone = _events(customer, action=Action.UPDATE, object_type="channel")
    assert phone[0].changes["value"] == ["+34600112233", "+34600998877"]
    removed = _events(customer, action=Action.DELETE)
    assert removed[0].changes["value"] == ["info@munoz.example", None]


def test_saving_without_changes_records_nothing(owner: User) -> None:
    customer = make_customer(owner)
    before = AuditEvent.objects.count()
    services.update_customer(customer=customer, by=owner, data={"legal_name": customer.legal_name})
    assert AuditEvent.objects.count() == before


def test_archive_restore_and_review_are_recorded(owner: User) -> None:
    customer = make_customer(owner)
    services.archive_customer(customer=customer, by=owner)
    services.restore_customer(customer=customer, by=owner)
    services.mark_reviewed(customer=customer, by=owner)
    actions = [e.action for e in _events(customer, object_type="customer")]
    assert actions == ["create", "archive", "restore", "update"]


def test_handing_over_a_portfolio_is_a_recorded_bulk_change(
    owner: User, teammate: User, manager: User
) -> None:
    # given two customers of one salesperson
    first = make_customer(owner)
    second = make_customer(owner, tax_id="A28015865", legal_name="Otra SA")
    # when the manager hands them over
    moved = services.reassign_customers(
        customers=Customer.objects.filter(owner=owner), to=teammate, by=manager
    )
    # then both changed hands, versions moved on and each has its own history line
    assert moved == 2
    for customer in (first, second):
        customer.refresh_from_db()
        assert (customer.owner, customer.version) == (teammate, 2)
        event = _events(customer, action=Action.BULK_UPDATE)[0]
        assert event.changes == {"owner": [str(owner), str(teammate)]}
        assert event.actor == manager


def test_a_salesperson_cannot_hand_over_customers(owner: User, teammate: User) -> None:
    make_customer(owner)
    response = client_for(owner).post(
        "/customers/handover/", {"from_owner": owner.pk, "to_owner": teammate.pk}
    )
    assert response.status_code == 403
    assert Customer.objects.get().owner == owner


def test_the_handover_page_moves_the_portfolio(owner: User, teammate: User, manager: User) -> None:
    make_customer(owner)
    response = client_for(manager).post(
        "/customers/handover/", {"from_owner": owner.pk, "to_owner": teammate.pk}
    )
    assert response.status_code == 302
    assert Customer.objects.get().owner == teammate


def test_history_cannot_be_edited(owner: User) -> None:
    customer = make_customer(owner)
    event = _events(customer)[0]
    event.object_label = "otra cosa"
    with pytest.raises(ImmutableHistory):
        event.save()
    with pytest.raises(ImmutableHistory):
        event.delete()
    with pytest.raises(ImmutableHistory):
        AuditEvent.objects.filter(pk=event.pk).update(object_label="x")
    with pytest.raises(ImmutableHistory):
        AuditEvent.objects.all().delete()


def test_the_ficha_shows_the_history_in_words_and_logs_the_visit(owner: User) -> None:
    customer = make_customer(owner)
    services.update_customer(customer=customer, by=owner, data={"trade_name": "Muñoz Asesores"})
    client = client_for(owner)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    # the change reads as words in Spanish, not JSON
    assert "Nombre comercial:" in page
    assert "→ Muñoz Asesores" in page
    assert "modificó" in page  # the action, in Spanish
    assert '{"trade_name"' not in page
    # and the visit itself is an access event attributed to the web
    access = _events(customer, action=Action.VIEW)
    assert [(e.actor, e.source) for e in access] == [(owner, "ui")]


def test_history_page_and_api(owner: User, outsider: User, team_visibility: object) -> None:
    customer = make_customer(owner)
    services.update_customer(customer=customer, by=owner, data={"trade_name": "Muñoz Asesores"})
    page = client_for(owner).get(f"/customers/{customer.pk}/history/")
    assert page.status_code == 200
    assert "Nombre comercial" in page.content.decode()
    response = Client().get(f"/api/customers/{customer.pk}/history", **bearer(owner))
    data = response.json()
    assert data["count"] >= 2
    latest = data["results"][0]
    assert latest["action"] == "update"
    assert latest["changes"] == [
        {
            "field": "trade_name",
            "label": "Nombre comercial",
            "before": "",
            "after": "Muñoz Asesores",
        }
    ]
    # someone who may not see the customer may not see its history either
    assert client_for(outsider).get(f"/customers/{customer.pk}/history/").status_code == 404
    assert (
        Client().get(f"/api/customers/{customer.pk}/history", **bearer(outsider)).status_code == 404
    )


def test_api_changes_are_attributed_to_the_api(owner: User) -> None:
    customer = make_customer(owner)
    response = Client().patch(
        f"/api/customers/{customer.pk}",
        {"trade_name": "Desde la API"},
        content_type="application/json",
        **bearer(owner),
    )
    assert response.status_code == 200
    event = _events(customer, action=Action.UPDATE)[-1]
    assert (event.source, event.actor) == ("api", owner)


def test_a_refused_stale_save_says_what_changed(owner: User, teammate: User) -> None:
    # given two people who read version 1
    customer = make_customer(owner)
    services.update_customer(
        customer=customer, by=teammate, data={"trade_name": "Versión de Tomás"}, version=1
    )
    # when the second saves on top of version 1
    with pytest.raises(services.VersionConflict) as refused:
        services.update_customer(
            customer=customer, by=owner, data={"notes": "Mis notas"}, version=1
        )
    # then the message names who changed it and which field
    message = refused.value.messages[0]
    assert "Tomas" in message
    assert "Nombre comercial" in message
