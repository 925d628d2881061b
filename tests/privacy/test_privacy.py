"""Consent, data-subject requests, the access package, blocking and erasure."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from cartera.accounts.models import User
from cartera.audit.models import Action, AuditEvent
from cartera.core.dates import add_months
from cartera.customers import services as customer_services
from cartera.customers.models import Customer, FiscalType
from cartera.privacy import services
from cartera.privacy.models import DataSubjectRequest, PrivacyPolicy
from tests.conftest import bearer, client_for, make_customer, make_lead

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 1, 31)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 11, 15), 2, datetime.date(2027, 1, 15)),
        (datetime.date(2026, 3, 31), -1, datetime.date(2026, 2, 28)),
        (datetime.date(2026, 5, 10), 36, datetime.date(2029, 5, 10)),
    ],
)
def test_add_months(day: datetime.date, months: int, expected: datetime.date) -> None:
    assert add_months(day, months) == expected


def _consent(customer: Customer, by: User, state: str, day: int = 1) -> None:
    services.record_consent(
        customer=customer,
        by=by,
        purpose="commercial",
        legal_basis="consent",
        state=state,
        recorded_on=datetime.date(2026, 1, day),
        source="Formulario web",
        evidence="Casilla marcada",
    )


def test_the_latest_statement_per_purpose_is_the_current_one(owner: User) -> None:
    customer = make_customer(owner)
    _consent(customer, owner, "granted", day=1)
    _consent(customer, owner, "withdrawn", day=5)
    current = services.current_consents(customer)
    assert [(c.purpose, c.state) for c in current] == [("commercial", "withdrawn")]
    assert customer.consents.count() == 2
    assert AuditEvent.objects.filter(customer_id=customer.pk, object_type="consent").count() == 2


def test_marketing_lists_leave_out_withdrawn_consent(owner: User) -> None:
    # given three customers: one withdrew, one granted, one never said
    withdrew = make_customer(owner)
    granted = make_lead(owner, "Acepta SL")
    make_lead(owner, "Sin respuesta SL")
    _consent(withdrew, owner, "granted", day=1)
    _consent(withdrew, owner, "withdrawn", day=2)
    _consent(granted, owner, "granted", day=3)
    # when the list is filtered for commercial communications
    client = client_for(owner)
    page = client.get("/customers/?contactable_for=commercial")
    names = sorted(c.legal_name for c in page.context["page"].object_list)
    # then the one who withdrew is not there, in the UI and the API
    assert names == ["Acepta SL", "Sin respuesta SL"]
    api = client.get("/api/customers?contactable_for=commercial").json()
    assert sorted(c["legal_name"] for c in api["results"]) == names


def test_consent_api(owner: User, outsider: User, team_visibility: object) -> None:
    customer = make_customer(owner)
    response = Client().post(
        f"/api/customers/{customer.pk}/consents",
        {"purpose": "newsletter", "legal_basis": "consent", "state": "granted",
         "recorded_on": "2026-01-10", "source": "Feria"},
        content_type="application/json",
        **bearer(owner),
    )  # fmt: skip
    assert response.status_code == 201
    state = Client().get(f"/api/customers/{customer.pk}/consents", **bearer(owner)).json()
    assert [(c["purpose"], c["state"]) for c in state["current"]] == [("newsletter", "granted")]
    # someone who cannot see the customer cannot read or add consents
    assert (
        Client().get(f"/api/customers/{customer.pk}/consents", **bearer(outsider)).status_code
        == 404
    )


def test_a_request_is_due_one_month_after_it_arrives(manager: User, owner: User) -> None:
    customer = make_customer(owner)
    request = services.open_request(
        customer=customer, by=manager, kind="access", received_on=TODAY, channel="correo"
    )
    assert request.due_on == datetime.date(2026, 2, 28)
    with pytest.raises(PermissionDenied):
        services.open_request(customer=customer, by=owner, kind="access", received_on=TODAY)


def test_overdue_requests_are_flagged_in_the_queue(manager: User, owner: User) -> None:
    customer = make_customer(owner)
    services.open_request(
        customer=customer, by=manager, kind="erasure", received_on=datetime.date(2020, 1, 1)
    )
    page = client_for(manager).get("/privacy/requests/").content.decode()
    assert "Vencida" in page
    assert client_for(owner).get("/privacy/requests/").status_code == 403


def test_the_access_package_holds_all_personal_data_and_is_logged(
    admin_user: User, owner: User
) -> None:
    customer = make_customer(
        owner, contacts=[{"first_name": "Lucía", "last_name": "Gómez", "email": "l@x.example"}]
    )
    _consent(customer, owner, "granted")
    client = client_for(admin_user)
    response = client.get(f"/privacy/customers/{customer.pk}/package/?format=json")
    package = json.loads(response.content)
    assert response["Content-Disposition"].startswith("attachment")
    assert package["customer"]["legal_name"] == "Muñoz y Asociados SL"
    assert {c["value"] for c in package["channels"]} == {"+34600112233", "info@munoz.example"}
    assert package["contacts"][0]["email"] == "l@x.example"
    assert package["consents"][0]["state"] == "granted"
    assert any(e["action"] == "create" for e in package["history"])
    assert AuditEvent.objects.filter(customer_id=customer.pk, action=Action.EXPORT).exists()
    html = client.get(f"/privacy/customers/{customer.pk}/package/").content.decode()
    assert "l@x.example" in html
    # only administrators
    assert client_for(owner).get(f"/privacy/customers/{customer.pk}/package/").status_code == 403


def test_blocked_data_is_seen_only_by_administrators(
    admin_user: User, manager: User, owner: User
) -> None:
    customer = make_customer(owner)
    blocked = services.block_customer(customer=customer, by=admin_user)
    assert blocked.erase_after == add_months(timezone.localdate(), 36)
    assert client_for(owner).get(f"/customers/{customer.pk}/").status_code == 404
    assert client_for(manager).get(f"/customers/{customer.pk}/").status_code == 404
    assert client_for(admin_user).get(f"/customers/{customer.pk}/").status_code == 200
    with pytest.raises(PermissionDenied):
        services.block_customer(customer=customer, by=manager)


def test_erasure_leaves_no_trace_of_the_person(admin_user: User, owner: User) -> None:
    # given a person with channels, a contact, consents, a request and a history
    customer = make_customer(
        owner,
        kind="person",
        fiscal_type=FiscalType.objects.get(code="particular"),
        legal_name="",
        first_name="Eulalia",
        last_name="Zubizarreta Quintana",
        tax_id="12345678Z",
        contacts=[{"first_name": "Ximena", "last_name": "Yáñez", "email": "ximena@x.example"}],
        notes="Prefiere llamadas de Eulalia por la tarde",
        tags=["vip-eulalia"],
    )
    customer_services.update_customer(
        customer=customer, by=owner, data={"trade_name": "Eulalia Zubizarreta Diseño"}
    )
    _consent(customer, owner, "granted")
    request = services.open_request(
        customer=customer, by=admin_user, kind="erasure", received_on=TODAY,
        notes="Eulalia pide la supresión",
    )  # fmt: skip
    # when the administrator blocks and anonymises it
    services.block_customer(customer=customer, by=admin_user)
    services.anonymize_customer(customer=customer, by=admin_user)
    # then nothing of the person is left anywhere
    customer.refresh_from_db()
    secrets = ["eulalia", "zubizarreta", "12345678z", "ximena", "600112233", "munoz.example"]
    record = json.dumps(list(Customer.objects.filter(pk=customer.pk).values()), default=str).lower()
    history = json.dumps(
        list(AuditEvent.objects.filter(customer_id=customer.pk).values()), default=str
    ).lower()
    request.refresh_from_db()
    for secret in secrets:
        assert secret not in record, secret
        assert secret not in history, secret
        assert secret not in request.notes.lower()
        assert not Customer.objects.search(secret).exists(), secret
    assert customer.channels.count() == customer.contacts.count() == 0
    assert customer.consents.count() == 0
    assert customer.tags.count() == 0
    assert (
        customer.legal_name.startswith("Cliente anonimizado")
        or customer.code in customer.legal_name
    )
    # the request itself stays, as proof it was answered
    assert DataSubjectRequest.objects.filter(pk=request.pk).exists()
    assert AuditEvent.objects.filter(customer_id=customer.pk, action=Action.ERASE).exists()
    # and the API search does not find the person either
    found = client_for(admin_user).get("/api/customers?search=zubizarreta").json()
    assert found["count"] == 0


def test_the_retention_job_anonymises_due_data_and_blocks_stale_customers(
    admin_user: User, owner: User
) -> None:
    # given a blocked customer past its date, a stale lead and a stale client
    due = make_customer(owner)
    services.block_customer(customer=due, by=admin_user)
    Customer.objects.filter(pk=due.pk).update(erase_after=datetime.date(2020, 1, 1))
    stale_lead = make_lead(owner, "Antiguo SL")
    stale_client = make_customer(owner, tax_id="A28015865", legal_name="Cliente Antiguo SA")
    long_ago = timezone.now() - datetime.timedelta(days=365 * 7)
    Customer.objects.filter(pk__in=[stale_lead.pk, stale_client.pk]).update(updated_at=long_ago)
    PrivacyPolicy.objects.update_or_create(pk=1, defaults={"inactive_years": 6})
    # when the nightly job runs
    anonymized, blocked = services.run_retention()
    # then
    assert (anonymized, blocked) == (1, 1)
    assert Customer.objects.get(pk=due.pk).anonymized_at is not None
    assert Customer.objects.get(pk=stale_lead.pk).blocked_at is not None
    assert Customer.objects.get(pk=stale_client.pk).blocked_at is None


def test_privacy_page_records_consent_and_requests(manager: User, owner: User) -> None:
    customer = make_customer(owner)
    client = client_for(manager)
    page = client.get(f"/privacy/customers/{customer.pk}/")
    assert page.status_code == 200
    response = client.post(
        f"/privacy/customers/{customer.pk}/",
        {"consent-purpose": "commercial", "consent-legal_basis": "consent",
         "consent-state": "withdrawn", "consent-recorded_on": "2026-01-05",
         "consent-source": "Llamada"},
    )  # fmt: skip
    assert response.status_code == 302
    response = client.post(
        f"/privacy/customers/{customer.pk}/",
        {"request-kind": "access", "request-received_on": "2026-01-05"},
    )
    assert response.status_code == 302
    page = client.get(f"/privacy/customers/{customer.pk}/").content.decode()
    assert "Retirado" in page
    assert "Acceso" in page
    bad = client.post(
        f"/privacy/customers/{customer.pk}/",
        {"consent-purpose": "robot", "consent-recorded_on": "ayer"},
    )
    assert bad.status_code == 422
    assert customer.consents.count() == 1
