"""Stage and status changes: the allowed moves, what each stage asks for, and the log."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cartera.accounts.models import User
from cartera.activities import services
from cartera.activities.models import EntryKind, LifecycleChange, TimelineEntry
from cartera.customers.models import Customer, FiscalType, LossReason, Stage, Status
from cartera.customers.validation import CustomerInvalid
from tests.conftest import CIF_SL, client_for, make_customer, make_lead

pytestmark = pytest.mark.django_db

FISCAL_ADDRESS = {
    "street": "Calle Mayor",
    "exterior_number": "28",
    "postal_code": "28013",
    "municipality": "Madrid",
    "country": "ES",
}


def errors_of(call: Any) -> dict[str, list[str]]:
    with pytest.raises(CustomerInvalid) as caught:
        call()
    return caught.value.messages_by_field


def test_creating_a_customer_logs_its_first_stage(owner: User) -> None:
    lead = make_lead(owner)
    change = LifecycleChange.objects.get(customer=lead)
    assert (change.field, change.old_value, change.new_value) == ("stage", "", Stage.LEAD)
    assert change.changed_by == owner
    assert TimelineEntry.objects.filter(customer=lead, kind=EntryKind.STAGE).count() == 1


def test_a_prospect_needs_a_qualification_note(owner: User) -> None:
    lead = make_lead(owner)
    errors = errors_of(lambda: services.change_stage(customer=lead, to=Stage.PROSPECT, by=owner))
    assert list(errors) == ["reason"]
    lead.refresh_from_db()
    assert lead.stage == Stage.LEAD
    services.change_stage(
        customer=lead, to=Stage.PROSPECT, by=owner, reason="Needs 20 licences in March"
    )
    lead.refresh_from_db()
    assert lead.stage == Stage.PROSPECT
    change = LifecycleChange.objects.filter(customer=lead).first()
    assert change is not None
    assert (change.old_value, change.new_value) == (Stage.LEAD, Stage.PROSPECT)
    assert change.reason == "Needs 20 licences in March"


def test_a_client_needs_invoiceable_data_given_with_the_move(owner: User) -> None:
    lead = make_lead(owner, name="Ferretería Sin Datos")
    errors = errors_of(lambda: services.change_stage(customer=lead, to=Stage.CLIENT, by=owner))
    assert {"tax_id", "fiscal_type", "addresses"} <= set(errors)
    assert Customer.objects.get(pk=lead.pk).stage == Stage.LEAD

    data = {
        "fiscal_type": FiscalType.objects.get(code="sociedad_mercantil"),
        "tax_country": "ES",
        "tax_id": CIF_SL,
        **services.fiscal_data(lead, FISCAL_ADDRESS),
    }
    services.change_stage(customer=lead, to=Stage.CLIENT, by=owner, data=data, reason="Signed")
    lead.refresh_from_db()
    assert lead.stage == Stage.CLIENT
    assert lead.client_since == timezone.localdate()
    assert lead.addresses.get(type="fiscal").postal_code == "28013"


def test_lost_needs_a_reason_and_the_competitor(owner: User) -> None:
    lead = make_lead(owner)
    errors = errors_of(lambda: services.change_stage(customer=lead, to=Stage.LOST, by=owner))
    assert list(errors) == ["loss_reason"]
    errors = errors_of(
        lambda: services.change_stage(
            customer=lead, to=Stage.LOST, by=owner, loss_reason=LossReason.COMPETITOR
        )
    )
    assert list(errors) == ["competitor"]
    services.change_stage(
        customer=lead, to=Stage.LOST, by=owner, loss_reason=LossReason.COMPETITOR,
        competitor="Holded", reason="Cheaper",
    )  # fmt: skip
    change = LifecycleChange.objects.get(customer=lead, new_value=Stage.LOST)
    assert (change.loss_reason, change.competitor, change.reason) == (
        LossReason.COMPETITOR, "Holded", "Cheaper",
    )  # fmt: skip
    # the losses stay queryable for the loss analysis
    assert LifecycleChange.objects.filter(loss_reason=LossReason.COMPETITOR).count() == 1


def test_winning_back_keeps_the_loss_in_the_log_only(owner: User) -> None:
    lead = make_lead(owner)
    services.change_stage(
        customer=lead, to=Stage.LOST, by=owner, loss_reason=LossReason.NOT_INTERESTED
    )
    services.change_stage(customer=lead, to=Stage.LEAD, by=owner, reason="Called back")
    lead.refresh_from_db()
    assert (lead.stage, lead.loss_reason) == (Stage.LEAD, "")
    assert LifecycleChange.objects.filter(customer=lead, loss_reason="not_interested").exists()


def test_moves_outside_the_allowed_transitions_are_refused(owner: User) -> None:
    customer = make_customer(owner)  # a client
    errors = errors_of(lambda: services.change_stage(customer=customer, to=Stage.LEAD, by=owner))
    assert list(errors) == ["stage"]
    errors = errors_of(lambda: services.change_stage(customer=customer, to="vip", by=owner))
    assert list(errors) == ["stage"]


def test_status_changes_are_logged_and_suspension_needs_a_reason(owner: User) -> None:
    customer = make_customer(owner)
    errors = errors_of(
        lambda: services.change_status(customer=customer, to=Status.SUSPENDED, by=owner)
    )
    assert list(errors) == ["reason"]
    services.change_status(customer=customer, to=Status.SUSPENDED, by=owner, reason="Impagos")
    customer.refresh_from_db()
    assert (customer.status, customer.status_reason) == (Status.SUSPENDED, "Impagos")
    change = LifecycleChange.objects.get(customer=customer, field="status")
    assert (change.old_value, change.new_value, change.reason) == ("active", "suspended", "Impagos")
    services.change_status(customer=customer, to=Status.ACTIVE, by=owner)
    customer.refresh_from_db()
    assert customer.status_reason == ""


def test_an_edit_through_the_form_is_logged_too(owner: User) -> None:
    from cartera.customers import services as customer_services

    lead = make_lead(owner)
    customer_services.update_customer(customer=lead, data={"stage": "prospect"}, by=owner)
    assert LifecycleChange.objects.filter(customer=lead, new_value="prospect").exists()


def test_stale_version_is_refused(owner: User) -> None:
    lead = make_lead(owner)
    errors = errors_of(
        lambda: services.change_stage(
            customer=lead, to=Stage.PROSPECT, by=owner, reason="x", version=lead.version - 1
        )
    )
    assert "__all__" in errors


# --- The pages ------------------------------------------------------------------


def test_the_ficha_offers_only_the_allowed_moves(owner: User) -> None:
    lead = make_lead(owner)
    page = client_for(owner).get(f"/customers/{lead.pk}/").content.decode()
    assert f"/customers/{lead.pk}/stage/?to=prospect" in page
    assert f"/customers/{lead.pk}/stage/?to=client" in page
    assert f"/customers/{lead.pk}/stage/?to=former" not in page


def test_converting_a_lead_to_client_in_the_page(owner: User) -> None:
    lead = make_lead(owner, name="Taller Martínez")
    client = client_for(owner)
    url = f"/customers/{lead.pk}/stage/"
    form = client.get(url, {"to": "client"})
    assert form.status_code == 200
    body = form.content.decode()
    assert 'name="tax_id"' in body and 'name="fiscal-postal_code"' in body
    assert 'name="loss_reason"' not in body
    # a wrong tax id: 422, nothing changes, the error is on the field
    post = {
        "to": "client", "version": lead.version, "kind": "organization",
        "fiscal_type": _fiscal_type_id(), "legal_name": "Taller Martínez SL",
        "tax_country": "ES", "tax_id": "B12345670",
        **{f"fiscal-{k}": v for k, v in FISCAL_ADDRESS.items()},
    }  # fmt: skip
    bad = client.post(url, post)
    assert bad.status_code == 422
    assert 'id="id_tax_id_error"' in bad.content.decode()
    assert Customer.objects.get(pk=lead.pk).stage == Stage.LEAD
    ok = client.post(url, post | {"tax_id": CIF_SL, "reason": "Signed the contract"})
    assert ok.status_code == 302
    lead.refresh_from_db()
    assert (lead.stage, lead.legal_name, lead.tax_id) == ("client", "Taller Martínez SL", CIF_SL)


def _fiscal_type_id() -> int:
    return FiscalType.objects.get(code="sociedad_mercantil").pk


def test_lost_page_asks_for_the_reason(owner: User) -> None:
    lead = make_lead(owner)
    client = client_for(owner)
    url = f"/customers/{lead.pk}/stage/"
    bad = client.post(url, {"to": "lost", "version": lead.version, "loss_reason": "competitor"})
    assert bad.status_code == 422
    assert 'id="id_competitor_error"' in bad.content.decode()
    ok = client.post(
        url,
        {"to": "lost", "version": lead.version, "loss_reason": "competitor",
         "competitor": "Acme"},
    )  # fmt: skip
    assert ok.status_code == 302
    assert Customer.objects.get(pk=lead.pk).stage == "lost"


def test_an_unknown_target_stage_shows_the_choices(owner: User) -> None:
    lead = make_lead(owner)
    response = client_for(owner).post(f"/customers/{lead.pk}/stage/", {"to": "vip"})
    assert response.status_code == 422
    assert Customer.objects.get(pk=lead.pk).stage == "lead"


def test_a_reader_cannot_change_the_stage(owner: User, reader: User) -> None:
    lead = make_lead(owner)
    data = {"to": "prospect", "version": lead.version, "reason": "x"}
    assert client_for(reader).post(f"/customers/{lead.pk}/stage/", data).status_code == 403
    assert Customer.objects.get(pk=lead.pk).stage == "lead"


def test_another_team_cannot_find_the_customer(
    owner: User, outsider: User, team_visibility: Any
) -> None:
    lead = make_lead(owner)
    data = {"to": "prospect", "version": lead.version, "reason": "x"}
    assert client_for(outsider).post(f"/customers/{lead.pk}/stage/", data).status_code == 404
    assert Customer.objects.get(pk=lead.pk).stage == "lead"


def test_status_page(owner: User) -> None:
    customer = make_customer(owner)
    client = client_for(owner)
    url = f"/customers/{customer.pk}/status/"
    assert client.post(url, {"version": customer.version, "status": "suspended"}).status_code == 422
    response = client.post(
        url, {"version": customer.version, "status": "suspended", "reason": "Impago"}
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).status == "suspended"


def test_only_active_customers_get_visits_unless_the_company_says_otherwise(
    owner: User, admin_user: User
) -> None:
    from cartera.activities.services import create_task
    from cartera.core.models import Company

    customer = make_customer(owner)
    services.change_status(customer=customer, to=Status.INACTIVE, by=owner, reason="Cerrado")
    visit = {"type": "visit", "subject": "Visita", "due_date": timezone.localdate()}
    errors = errors_of(lambda: create_task(customer=customer, data=visit, by=owner))
    assert list(errors) == ["type"]
    # a call is still fine
    create_task(customer=customer, data=visit | {"type": "call"}, by=owner)
    # the administrator turns the rule off in the company settings (the box left unticked)
    client = client_for(admin_user)
    form = client.get("/settings/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k != "restrict_to_active"}
    assert client.post("/settings/", data).status_code == 302
    assert Company.load().restrict_to_active is False
    assert create_task(customer=customer, data=visit, by=owner).type == "visit"
