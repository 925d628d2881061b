"""Use cases of the customer register. Every write to a customer goes through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import Role, User
from cartera.core.countries import COUNTRY_CURRENCY
from cartera.core.models import Company
from cartera.core.models import Sequence as NumberSequence
from cartera.customers.models import (
    Address,
    AddressType,
    Contact,
    ContactChannel,
    Customer,
    Tag,
)
from cartera.customers.validation import (
    CleanCustomer,
    CustomerInvalid,
    address_as_dict,
    missing_for_invoice,
    validate_customer,
)

CUSTOMER_CODE_SERIES = "customer"


class VersionConflict(CustomerInvalid):
    """Someone else saved the customer since it was read."""


def next_customer_code(company: Company | None = None) -> str:
    """Take the next code of the company's customer series (e.g. C-000123)."""
    company = company or Company.load()
    while True:
        number = NumberSequence.take(CUSTOMER_CODE_SERIES)
        code = f"{company.customer_code_prefix}{number:0{company.customer_code_digits}d}"
        if not Customer.objects.filter(code=code).exists():
            return code


def _check_owner(clean: CleanCustomer, *, by: User, instance: Customer | None) -> None:
    owner = clean.fields.get("owner")
    if owner is None:
        if "owner" in clean.fields:
            raise CustomerInvalid({"owner": [_("This field is required.")]})
        return
    if not owner.is_active or owner.role == Role.READ_ONLY:
        raise CustomerInvalid({"owner": [_("This user cannot own customers.")]})
    unchanged = instance is not None and instance.owner_id == owner.pk
    if not by.can_assign_owners and owner.pk != by.pk and not unchanged:
        raise CustomerInvalid({"owner": [_("Only a manager can give a customer to someone else.")]})


@transaction.atomic
def create_customer(*, data: Mapping[str, Any], by: User) -> Customer:
    """Create a customer with its channels, addresses and contacts."""
    if not by.can_write:
        raise PermissionDenied
    clean = validate_customer(data, instance=None)
    _check_owner(clean, by=by, instance=None)
    company = Company.load()
    fields = clean.fields
    if not fields.get("code"):
        fields["code"] = next_customer_code(company)
    elif Customer.objects.filter(code=fields["code"]).exists():
        raise CustomerInvalid({"code": [_("Another customer already has this code.")]})
    fields.setdefault("owner", by)
    if not fields.get("currency"):
        country = fields.get("tax_country") or company.default_country
        fields["currency"] = COUNTRY_CURRENCY.get(country, company.default_currency)
    for name in ("fiscal_type", "legal_form", "group", "lead_source", "sector"):
        fields.setdefault(name, None)
    if fields.get("payment_terms_days") is None and fields.get("group") is not None:
        fields["payment_terms_days"] = fields["group"].payment_terms_days
    customer = Customer(**fields, created_by=by, updated_by=by, reviewed_at=timezone.now())
    customer.custom_data = clean.custom_data or {}
    _save(customer)
    _write_related(customer, clean)
    return customer


@transaction.atomic
def update_customer(
    *, customer: Customer, data: Mapping[str, Any], by: User, version: int | None = None
) -> Customer:
    """Change a customer; lists given in ``data`` replace the current ones."""
    customer = _lock_editable(customer, by)
    if version is not None and version != customer.version:
        raise VersionConflict(
            {
                "__all__": [
                    _(
                        "%(name)s changed this customer while you were editing it. "
                        "Reload to see their changes, then apply yours again."
                    )
                    % {"name": customer.updated_by or _("Someone")}
                ]
            }
        )
    clean = validate_customer(data, instance=customer)
    _check_owner(clean, by=by, instance=customer)
    if "code" in clean.fields and clean.fields["code"] != customer.code:
        if not clean.fields["code"]:
            raise CustomerInvalid({"code": [_("This field is required.")]})
        if Customer.objects.filter(code=clean.fields["code"]).exclude(pk=customer.pk).exists():
            raise CustomerInvalid({"code": [_("Another customer already has this code.")]})
    for name, value in clean.fields.items():
        setattr(customer, name, value)
    if clean.custom_data is not None:
        customer.custom_data = clean.custom_data
    customer.updated_by = by
    customer.version += 1
    _save(customer)
    _write_related(customer, clean)
    return customer


def _save(customer: Customer) -> None:
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # Two saves raced past validation: report it as the validation would have.
        raise CustomerInvalid(
            {"tax_id": [_("This tax id already belongs to a customer.")]}
        ) from exc


def _lock_editable(customer: Customer, by: User) -> Customer:
    locked = (
        Customer.objects.editable_by(by).select_for_update().filter(pk=customer.pk).first()
        if by.can_write
        else None
    )
    if locked is None:
        raise PermissionDenied
    return locked


def _write_related(customer: Customer, clean: CleanCustomer) -> None:
    if clean.tags is not None:
        existing = {t.name.casefold(): t for t in Tag.objects.filter(name__in=clean.tags)}
        tags = [existing.get(n.casefold()) or Tag.objects.create(name=n) for n in clean.tags]
        customer.tags.set(tags)
    if clean.channels is not None:
        _replace(customer, ContactChannel, clean.channels, "channels")
    if clean.addresses is not None:
        _replace(customer, Address, clean.addresses, "addresses")
    if clean.contacts is not None:
        _replace(customer, Contact, clean.contacts, "contacts")
    refresh_search_text(customer)


def _replace(customer: Customer, model: Any, items: Sequence[dict[str, Any]], path: str) -> None:
    """Make the customer's rows of ``model`` exactly ``items`` (matched by id)."""
    current = {obj.pk: obj for obj in model.objects.filter(customer=customer)}
    keep: set[int] = set()
    for i, item in enumerate(items):
        values = {k: v for k, v in item.items() if k != "id"}
        if model is ContactChannel:
            values["position"] = i
        pk = item.get("id")
        if pk:
            try:
                obj = current[int(pk)]
            except (KeyError, TypeError, ValueError):
                raise CustomerInvalid(
                    {f"{path}.{i}.id": [_("This item does not belong to the customer.")]}
                ) from None
            for name, value in values.items():
                setattr(obj, name, value)
            obj.save()
            keep.add(obj.pk)
        else:
            keep.add(model.objects.create(customer=customer, **values).pk)
    model.objects.filter(customer=customer).exclude(pk__in=keep).delete()


def refresh_search_text(customer: Customer) -> None:
    """Recompute the folded text the search box matches (after any change to the customer)."""
    text = customer.build_search_text()
    if text != customer.search_text:
        customer.search_text = text
        Customer.objects.filter(pk=customer.pk).update(search_text=text)


@transaction.atomic
def archive_customer(*, customer: Customer, by: User) -> Customer:
    """Archive a customer: it leaves the lists but nothing is deleted."""
    customer = _lock_editable(customer, by)
    if customer.archived_at is None:
        customer.archived_at = timezone.now()
        customer.updated_by = by
        customer.version += 1
        customer.save(update_fields=["archived_at", "updated_by", "version", "updated_at"])
    return customer


@transaction.atomic
def restore_customer(*, customer: Customer, by: User) -> Customer:
    """Bring an archived customer back to the lists."""
    customer = _lock_editable(customer, by)
    if customer.archived_at is not None:
        customer.archived_at = None
        customer.updated_by = by
        customer.version += 1
        customer.save(update_fields=["archived_at", "updated_by", "version", "updated_at"])
    return customer


@transaction.atomic
def mark_reviewed(*, customer: Customer, by: User) -> Customer:
    """Record that someone checked the customer's data today."""
    customer = _lock_editable(customer, by)
    customer.reviewed_at = timezone.now()
    customer.updated_by = by
    customer.save(update_fields=["reviewed_at", "updated_by", "updated_at"])
    return customer


def invoice_missing(customer: Customer) -> list[str]:
    """What a customer still lacks to be invoiced (uses prefetched addresses)."""
    fiscal = next((a for a in customer.addresses.all() if a.type == AddressType.FISCAL), None)
    return missing_for_invoice(
        kind=customer.kind,
        fiscal_type=customer.fiscal_type_id,
        legal_name=customer.legal_name,
        tax_id=customer.tax_id,
        fiscal_address=address_as_dict(fiscal) if fiscal else None,
    )
