"""Data-protection use cases: consent, requests, the access package, blocking and erasure."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.audit import services as audit
from cartera.audit.models import Action, AuditEvent
from cartera.core.dates import add_months
from cartera.customers.models import Contact, Customer
from cartera.customers.services import refresh_search_text
from cartera.customers.validation import ADDRESS_FIELDS, CHANNEL_FIELDS, CONTACT_FIELDS
from cartera.privacy.models import (
    ConsentRecord,
    DataSubjectRequest,
    PrivacyPolicy,
    RequestStatus,
)

# Apps that keep documents the law requires (invoices) say so here, per customer.
_FISCAL_RECORD_CHECKS: list[Callable[[Customer], bool]] = []


def register_fiscal_records(check: Callable[[Customer], bool]) -> None:
    _FISCAL_RECORD_CHECKS.append(check)


def keeps_fiscal_records(customer: Customer) -> bool:
    """Whether the law obliges us to keep this customer's fiscal identity (issued invoices)."""
    return any(check(customer) for check in _FISCAL_RECORD_CHECKS)


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise PermissionDenied


def _can_edit(customer: Customer, by: User) -> None:
    if not Customer.objects.editable_by(by).filter(pk=customer.pk).exists():
        raise PermissionDenied


@transaction.atomic
def record_consent(
    *,
    customer: Customer,
    by: User,
    purpose: str,
    legal_basis: str,
    state: str,
    recorded_on: datetime.date,
    source: str = "",
    evidence: str = "",
    contact: Contact | None = None,
) -> ConsentRecord:
    """Record a consent given or withdrawn (or another legal basis) for one purpose."""
    _can_edit(customer, by)
    if contact is not None and contact.customer_id != customer.pk:
        raise PermissionDenied
    record = ConsentRecord.objects.create(
        customer=customer,
        contact=contact,
        purpose=purpose,
        legal_basis=legal_basis,
        state=state,
        recorded_on=recorded_on,
        source=source,
        evidence=evidence,
        recorded_by=by,
    )
    audit.record(
        action=Action.CREATE,
        object_type="consent",
        object_id=record.pk,
        label=str(record),
        customer_id=customer.pk,
        by=by,
        changes=audit.diff(
            {}, audit.snapshot(record, ("purpose", "legal_basis", "state", "recorded_on", "source"))
        ),
    )
    return record


def current_consents(customer: Customer) -> list[ConsentRecord]:
    """The latest record per (contact, purpose)."""
    seen: set[tuple[int | None, str]] = set()
    latest = []
    for record in customer.consents.select_related("contact").order_by("-recorded_on", "-id"):
        key = (record.contact_id, record.purpose)
        if key not in seen:
            seen.add(key)
            latest.append(record)
    return latest


@transaction.atomic
def open_request(
    *,
    customer: Customer,
    by: User,
    kind: str,
    received_on: datetime.date,
    channel: str = "",
    notes: str = "",
    contact: Contact | None = None,
) -> DataSubjectRequest:
    """Register a data-subject request; the answer is due within one month."""
    if not by.sees_whole_portfolio:
        raise PermissionDenied
    request = DataSubjectRequest.objects.create(
        customer=customer,
        contact=contact,
        kind=kind,
        received_on=received_on,
        due_on=add_months(received_on, 1),
        channel=channel,
        notes=notes,
        created_by=by,
    )
    audit.record(
        action=Action.CREATE,
        object_type="privacy_request",
        object_id=request.pk,
        label=request.get_kind_display(),
        customer_id=customer.pk,
        by=by,
        changes={"kind": [None, kind], "due_on": [None, request.due_on.isoformat()]},
    )
    return request


@transaction.atomic
def close_request(
    *, request: DataSubjectRequest, by: User, status: str, resolution: str
) -> DataSubjectRequest:
    """Mark a request completed or rejected, with what was done."""
    if not by.sees_whole_portfolio:
        raise PermissionDenied
    before = audit.snapshot(request, ("status", "resolution"))
    request.status = status
    request.resolution = resolution
    request.closed_at = (
        timezone.now() if status in (RequestStatus.COMPLETED, RequestStatus.REJECTED) else None
    )
    request.save()
    audit.record(
        action=Action.UPDATE,
        object_type="privacy_request",
        object_id=request.pk,
        label=request.get_kind_display(),
        customer_id=request.customer_id,
        by=by,
        changes=audit.diff(before, audit.snapshot(request, ("status", "resolution"))),
    )
    return request


def access_package(customer: Customer, *, by: User) -> dict[str, Any]:
    """Every piece of personal data held about a customer, for access and portability."""
    _require_admin(by)
    audit.record_on_customer(
        customer,
        action=Action.EXPORT,
        by=by,
        changes={"package": [None, "access"]},
    )
    fields = (
        "code", "kind", "legal_name", "trade_name", "first_name", "last_name", "tax_id",
        "tax_country", "stage", "status", "notes", "language", "currency", "custom_data",
        "created_at", "updated_at", "reviewed_at",
    )  # fmt: skip
    history = AuditEvent.objects.for_customer(customer.pk).changes().order_by("at", "id")
    return {
        "generated_at": timezone.now().isoformat(),
        "customer": audit.snapshot(customer, fields),
        "tags": [t.name for t in customer.tags.all()],
        "channels": [audit.snapshot(c, CHANNEL_FIELDS) for c in customer.channels.all()],
        "addresses": [audit.snapshot(a, ADDRESS_FIELDS) for a in customer.addresses.all()],
        "contacts": [audit.snapshot(c, CONTACT_FIELDS) for c in customer.contacts.all()],
        "consents": [
            audit.snapshot(
                r, ("purpose", "legal_basis", "state", "recorded_on", "source", "evidence")
            )
            for r in customer.consents.order_by("recorded_on", "id")
        ],
        "requests": [
            audit.snapshot(r, ("kind", "received_on", "due_on", "status", "resolution"))
            for r in customer.privacy_requests.order_by("received_on", "id")
        ],
        "history": [
            {
                "at": e.at.isoformat(),
                "who": e.actor_name,
                "action": e.action,
                "object": e.object_type,
                "changes": e.changes,
            }
            for e in history
        ],
    }


@transaction.atomic
def block_customer(*, customer: Customer, by: User) -> Customer:
    """Erasure, step one: keep the data only for the law, out of everyone's sight but admins'."""
    _require_admin(by)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.blocked_at is None:
        policy = PrivacyPolicy.load()
        customer.blocked_at = timezone.now()
        customer.erase_after = add_months(timezone.localdate(), policy.block_months)
        customer.version += 1
        customer.save(update_fields=["blocked_at", "erase_after", "version", "updated_at"])
        audit.record_on_customer(
            customer,
            action=Action.BLOCK,
            by=by,
            changes={"erase_after": [None, customer.erase_after.isoformat()]},
            version=customer.version,
        )
    return customer


@transaction.atomic
def anonymize_customer(*, customer: Customer, by: User | None) -> Customer:
    """Erasure, step two: remove the person's data for good, keeping what tax law requires."""
    if by is not None:
        _require_admin(by)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.anonymized_at is not None:
        return customer
    keep_fiscal = keeps_fiscal_records(customer)
    placeholder = _("Anonymised customer %(code)s") % {"code": customer.code}
    customer.first_name = customer.last_name = customer.trade_name = ""
    customer.notes = customer.status_reason = customer.loss_detail = ""
    customer.custom_data = {}
    customer.annual_revenue = customer.purchase_potential = None
    if not keep_fiscal:
        customer.legal_name = placeholder
        customer.tax_id = customer.tax_id_type = ""
    customer.anonymized_at = timezone.now()
    customer.blocked_at = customer.blocked_at or customer.anonymized_at
    customer.version += 1
    customer.save()
    customer.tags.clear()
    customer.channels.all().delete()
    customer.contacts.all().delete()
    addresses = customer.addresses.all()
    if keep_fiscal:
        addresses = addresses.exclude(type="fiscal")
    addresses.delete()
    customer.consents.all().delete()
    DataSubjectRequest.objects.filter(customer=customer).update(
        notes="", channel="", resolution="", contact=None
    )
    AuditEvent.objects.scrub_customer(customer.pk)
    refresh_search_text(customer)
    audit.record_on_customer(
        customer,
        action=Action.ERASE,
        by=by,
        version=customer.version,
    )
    return customer


def run_retention(*, today: datetime.date | None = None) -> tuple[int, int]:
    """The nightly job: anonymise blocked data whose time is up; block long-inactive customers."""
    today = today or timezone.localdate()
    policy = PrivacyPolicy.load()
    due = Customer.objects.filter(
        blocked_at__isnull=False, anonymized_at__isnull=True, erase_after__lte=today
    )
    anonymized = 0
    for customer in due.iterator():
        anonymize_customer(customer=customer, by=None)
        anonymized += 1
    blocked = 0
    if policy.inactive_years:
        limit = timezone.now() - datetime.timedelta(days=round(365.25 * policy.inactive_years))
        stale = Customer.objects.filter(
            Q(blocked_at__isnull=True), Q(updated_at__lt=limit), ~Q(stage="client")
        )
        erase_after = add_months(today, policy.block_months)
        for customer in stale.iterator():
            with transaction.atomic():
                Customer.objects.filter(pk=customer.pk).update(
                    blocked_at=timezone.now(), erase_after=erase_after
                )
                audit.record_on_customer(
                    customer,
                    action=Action.BLOCK,
                    changes={"erase_after": [None, erase_after.isoformat()]},
                )
            blocked += 1
    return anonymized, blocked
