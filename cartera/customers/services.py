"""Use cases of the customer register. Every write to a customer goes through here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import Role, User
from cartera.audit import services as audit
from cartera.audit.models import Action, AuditEvent
from cartera.core.countries import COUNTRY_CURRENCY
from cartera.core.models import Company
from cartera.core.models import Sequence as NumberSequence
from cartera.customers.models import (
    Address,
    AddressType,
    Contact,
    ContactChannel,
    Customer,
    Stage,
    Tag,
)
from cartera.customers.models.customer import sort_name_of
from cartera.customers.validation import (
    ADDRESS_FIELDS,
    CHANNEL_FIELDS,
    CONTACT_FIELDS,
    SCALAR_FIELDS,
    CleanCustomer,
    CustomerInvalid,
    address_as_dict,
    missing_for_invoice,
    validate_customer,
)

CUSTOMER_CODE_SERIES = "customer"

# What the history records of each object, field by field.
AUDITED_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": (*SCALAR_FIELDS, "custom_data"),
    "channel": tuple(f for f in CHANNEL_FIELDS if f != "id"),
    "address": tuple(f for f in ADDRESS_FIELDS if f != "id"),
    "contact": tuple(f for f in CONTACT_FIELDS if f != "id"),
}
_OBJECT_TYPES = {ContactChannel: "channel", Address: "address", Contact: "contact"}


def _customer_state(customer: Customer) -> dict[str, Any]:
    state = audit.snapshot(customer, AUDITED_FIELDS["customer"])
    state["tags"] = sorted(t.name for t in customer.tags.all())
    return state


def _record_customer(
    customer: Customer, action: str, by: User, changes: dict[str, Any] | None = None
) -> None:
    audit.record_on_customer(
        customer, action=action, by=by, changes=changes, version=customer.version
    )


# Called after a customer's stage or status changed, in the same transaction, with
# (customer, field, old value, new value, who, reason). The activities app keeps the
# lifecycle log and the timeline this way without the register depending on it.
LifecycleListener = Callable[[Customer, str, str, str, User, str], None]
_LIFECYCLE_LISTENERS: list[LifecycleListener] = []


def on_lifecycle_change(listener: LifecycleListener) -> None:
    if listener not in _LIFECYCLE_LISTENERS:
        _LIFECYCLE_LISTENERS.append(listener)


def _notify_lifecycle(
    customer: Customer, before: Mapping[str, Any], *, by: User, reason: str
) -> None:
    for field in ("stage", "status"):
        old, new = before.get(field) or "", getattr(customer, field)
        if old != new:
            for listener in _LIFECYCLE_LISTENERS:
                listener(customer, field, old, new, by, reason)


def fill_new_customer(fields: dict[str, Any], *, by: User, company: Company) -> None:
    """Give a new customer's clean fields what its data leaves out: its creator as owner, the
    currency of its tax country (else the company's), the payment terms of its group."""
    fields.setdefault("owner", by)
    fields["sort_name"] = sort_name_of(
        fields.get("legal_name") or "", fields.get("trade_name") or ""
    )
    if not fields.get("currency"):
        country = fields.get("tax_country") or company.default_country
        fields["currency"] = COUNTRY_CURRENCY.get(country, company.default_currency)
    for name in ("fiscal_type", "legal_form", "group", "lead_source", "sector"):
        fields.setdefault(name, None)
    if fields.get("payment_terms_days") is None and fields.get("group") is not None:
        fields["payment_terms_days"] = fields["group"].payment_terms_days


def _note_client_since(customer: Customer) -> None:
    if customer.stage == Stage.CLIENT and customer.client_since is None:
        customer.client_since = timezone.localdate()


class VersionConflict(CustomerInvalid):
    """Someone else saved the customer since it was read."""


def _take_numbers(key: str, count: int) -> int:
    """Advance a series by ``count`` in one statement (UPDATE … RETURNING) in the caller's
    transaction, creating it on first use; the first number taken. The row stays locked until
    the transaction ends, as with ``NumberSequence.take``."""
    if not connection.features.can_return_columns_from_insert:  # RETURNING: SQLite 3.35+
        first = NumberSequence.take(key)
        if count > 1:
            NumberSequence.objects.filter(key=key).update(next_value=F("next_value") + count - 1)
        return first
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(NumberSequence._meta.db_table)} "  # noqa: S608 - names, not input
        f"SET {quote('next_value')} = {quote('next_value')} + %s "
        f"WHERE {quote('key')} = %s RETURNING {quote('next_value')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, key])
        row = cursor.fetchone()
        if row is None:  # the series' first use
            NumberSequence.objects.get_or_create(key=key)
            cursor.execute(sql, [count, key])
            row = cursor.fetchone()
    assert row is not None
    return int(row[0]) - count


def take_customer_codes(count: int, company: Company | None = None) -> list[str]:
    """``count`` new codes of the company's customer series (e.g. C-000123), taken in one
    statement; codes already in use (given by hand, imported) are passed over."""
    company = company or Company.load()
    prefix, digits = company.customer_code_prefix, company.customer_code_digits
    codes: list[str] = []
    while len(codes) < count:
        wanted = count - len(codes)
        first = _take_numbers(CUSTOMER_CODE_SERIES, wanted)
        batch = [f"{prefix}{n:0{digits}d}" for n in range(first, first + wanted)]
        if batch[0] <= batch[-1]:  # one range of the code index holds them all
            found = Customer.objects.filter(code__range=(batch[0], batch[-1]))
        else:  # the numbers just grew a digit
            found = Customer.objects.filter(code__in=batch)
        used = set(found.order_by().values_list("code", flat=True))
        codes += [code for code in batch if code not in used]
    return codes


def next_customer_code(company: Company | None = None) -> str:
    """Take the next code of the company's customer series (e.g. C-000123)."""
    return take_customer_codes(1, company)[0]


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
def create_customer(
    *, data: Mapping[str, Any], by: User, reason: str = "", prefetched: bool = False
) -> Customer:
    """Create a customer with its channels, addresses and contacts.

    With ``prefetched`` the customer returned holds its tags, channels, addresses and contacts
    as if prefetched, to be shown without reading them back (they go stale if changed later).
    """
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
    fill_new_customer(fields, by=by, company=company)
    customer = Customer(**fields, created_by=by, updated_by=by, reviewed_at=timezone.now())
    customer.custom_data = clean.custom_data or {}
    _note_client_since(customer)
    related = _unsaved_related(customer, clean)
    # The search text goes in with the row: no second write, and the index is filled once.
    customer.search_text = customer.build_search_text(
        channels=related[ContactChannel], contacts=_as_read(Contact, related[Contact])
    )
    _save(customer)
    events = _create_related(customer, clean, related, by=by)
    events.append(
        audit.event(
            action=Action.CREATE,
            object_type="customer",
            object_id=customer.pk,
            label=customer.code,
            customer_id=customer.pk,
            by=by,
            changes=audit.diff({}, _customer_state(customer)),
            version=customer.version,
        )
    )
    audit.record_all(events)
    _notify_lifecycle(customer, {"status": customer.status}, by=by, reason=reason)
    if prefetched:
        # A new customer has bought nothing: its purchase activity is known without a query.
        Customer._meta.get_field("purchase").set_cached_value(customer, None)
    else:
        customer.__dict__.pop("_prefetched_objects_cache", None)
    return customer


def _unsaved_related(customer: Customer, clean: CleanCustomer) -> dict[Any, list[Any]]:
    """A new customer's channels, addresses and contacts, unsaved, in the order they are read."""
    channels = [
        ContactChannel(customer=customer, **{k: v for k, v in item.items() if k != "id"},
                       position=i)
        for i, item in enumerate(clean.channels or [])
    ]  # fmt: skip
    addresses = [
        Address(customer=customer, **{k: v for k, v in item.items() if k != "id"})
        for item in clean.addresses or []
    ]
    contacts = [
        Contact(customer=customer, **{k: v for k, v in item.items() if k != "id"})
        for item in clean.contacts or []
    ]
    return {ContactChannel: channels, Address: addresses, Contact: contacts}


def _as_read(model: Any, items: list[Any]) -> list[Any]:
    """``items`` (in the order given, so of their ids) in the order of the model's Meta.ordering."""
    if model is Address:
        return sorted(items, key=lambda a: a.type)  # stable: equal keys keep the id order
    if model is Contact:
        return sorted(items, key=lambda c: (not c.is_primary, c.first_name, c.last_name))
    return items  # channels: by position, which is the order given


def _create_related(
    customer: Customer, clean: CleanCustomer, related: dict[Any, list[Any]], *, by: User
) -> list[AuditEvent]:
    """Insert a new customer's rows (one statement per table) and say what was created.

    The customer keeps them as if prefetched, so reading them back costs no query.
    """
    tags: list[Tag] = []
    if clean.tags:
        existing = {t.name.casefold(): t for t in Tag.objects.filter(name__in=clean.tags)}
        tags = [existing.get(n.casefold()) or Tag.objects.create(name=n) for n in clean.tags]
        Customer.tags.through.objects.bulk_create(
            [Customer.tags.through(customer=customer, tag=tag) for tag in tags]
        )
    _keep_prefetched(customer, "tags", sorted(tags, key=lambda t: t.name))
    events: list[AuditEvent] = []
    for model, name in (
        (ContactChannel, "channels"),
        (Address, "addresses"),
        (Contact, "contacts"),
    ):
        items = related[model]
        if items:
            model.objects.bulk_create(items)
        _keep_prefetched(customer, name, _as_read(model, items))
        object_type = _OBJECT_TYPES[model]
        fields = AUDITED_FIELDS[object_type]
        for obj in items:
            events.append(
                audit.event(
                    action=Action.CREATE,
                    object_type=object_type,
                    object_id=obj.pk,
                    label=str(obj),
                    customer_id=customer.pk,
                    by=by,
                    changes=audit.diff({}, audit.snapshot(obj, fields)),
                    version=customer.version,
                )
            )
    return events


def _keep_prefetched(customer: Customer, name: str, items: list[Any]) -> None:
    """Hold ``items`` as the customer's prefetched ``name`` (what prefetch_related stores)."""
    queryset = getattr(customer, name).all()
    queryset._result_cache = items
    queryset._prefetch_done = True
    cache = customer.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


@transaction.atomic
def update_customer(
    *,
    customer: Customer,
    data: Mapping[str, Any],
    by: User,
    version: int | None = None,
    reason: str = "",
) -> Customer:
    """Change a customer; lists given in ``data`` replace the current ones.

    ``reason`` explains a change of stage or status, kept in the lifecycle log.
    """
    customer = _lock_editable(customer, by)
    if version is not None and version != customer.version:
        raise VersionConflict({"__all__": [_conflict_message(customer, version)]})
    before = _customer_state(customer)
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
    _note_client_since(customer)
    _save(customer)
    _write_related(customer, clean, by=by)
    changes = audit.diff(before, _customer_state(customer))
    if changes:
        _record_customer(customer, Action.UPDATE, by, changes)
    _notify_lifecycle(customer, before, by=by, reason=reason)
    return customer


def _conflict_message(customer: Customer, version: int) -> str:
    """Who changed the customer since ``version`` was read, and which fields."""
    from cartera.audit.presenters import present

    events = AuditEvent.objects.for_customer(customer.pk).changes().filter(version__gt=version)
    names: list[str] = []
    for item in events.order_by("at", "id")[:50]:
        view = present(item)
        labels = [c.label for c in view.changes] or [view.object_name]
        names += [label for label in labels if label not in names]
    message = _(
        "%(name)s changed this customer while you were editing it. "
        "Reload to see their changes, then apply yours again."
    ) % {"name": customer.updated_by or _("Someone")}
    if names:
        message += " " + _("Changed: %(fields)s.") % {"fields": ", ".join(names[:12])}
    return message


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


def _write_related(customer: Customer, clean: CleanCustomer, *, by: User) -> None:
    if clean.tags is not None:
        existing = {t.name.casefold(): t for t in Tag.objects.filter(name__in=clean.tags)}
        tags = [existing.get(n.casefold()) or Tag.objects.create(name=n) for n in clean.tags]
        customer.tags.set(tags)
    events: list[AuditEvent] = []
    if clean.channels is not None:
        events += _replace(customer, ContactChannel, clean.channels, "channels", by=by)
    if clean.addresses is not None:
        events += _replace(customer, Address, clean.addresses, "addresses", by=by)
    if clean.contacts is not None:
        events += _replace(customer, Contact, clean.contacts, "contacts", by=by)
    audit.record_all(events)
    refresh_search_text(customer)


def _replace(
    customer: Customer, model: Any, items: Sequence[dict[str, Any]], path: str, *, by: User
) -> list[AuditEvent]:
    """Make the customer's rows of ``model`` exactly ``items`` (matched by id); say what changed."""
    object_type = _OBJECT_TYPES[model]
    fields = AUDITED_FIELDS[object_type]
    current = {obj.pk: obj for obj in model.objects.filter(customer=customer)}
    keep: set[int] = set()
    events: list[AuditEvent] = []

    def note(action: str, obj: Any, changes: dict[str, Any]) -> None:
        events.append(
            audit.event(
                action=action,
                object_type=object_type,
                object_id=obj.pk,
                label=str(obj),
                customer_id=customer.pk,
                by=by,
                changes=changes,
                version=customer.version,
            )
        )

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
            before = audit.snapshot(obj, fields)
            for name, value in values.items():
                setattr(obj, name, value)
            obj.save()
            keep.add(obj.pk)
            if changes := audit.diff(before, audit.snapshot(obj, fields)):
                note(Action.UPDATE, obj, changes)
        else:
            obj = model.objects.create(customer=customer, **values)
            keep.add(obj.pk)
            note(Action.CREATE, obj, audit.diff({}, audit.snapshot(obj, fields)))
    for pk, obj in current.items():
        if pk not in keep:
            gone = {
                n: [v, None] for n, v in audit.snapshot(obj, fields).items() if v not in ("", None)
            }
            note(Action.DELETE, obj, gone)
    model.objects.filter(customer=customer).exclude(pk__in=keep).delete()
    return events


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
        _record_customer(customer, Action.ARCHIVE, by)
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
        _record_customer(customer, Action.RESTORE, by)
    return customer


@transaction.atomic
def mark_reviewed(*, customer: Customer, by: User) -> Customer:
    """Record that someone checked the customer's data today."""
    customer = _lock_editable(customer, by)
    before = audit.plain(customer.reviewed_at)
    customer.reviewed_at = timezone.now()
    customer.updated_by = by
    customer.save(update_fields=["reviewed_at", "updated_by", "updated_at"])
    changes = {"reviewed_at": [before, audit.plain(customer.reviewed_at)]}
    _record_customer(customer, Action.UPDATE, by, changes)
    return customer


@transaction.atomic
def reassign_customers(*, customers: Any, to: User, by: User) -> int:
    """Give customers to another owner in one go; each change is in the history."""
    if not by.can_assign_owners:
        raise PermissionDenied
    if not to.is_active or to.role == Role.READ_ONLY:
        raise CustomerInvalid({"owner": [_("This user cannot own customers.")]})
    rows = list(
        customers.exclude(owner=to)
        .select_for_update()
        .values_list("pk", "code", "version", "owner")
    )
    if not rows:
        return 0
    names = {u.pk: str(u) for u in User.objects.filter(pk__in={row[3] for row in rows})}
    ids = [pk for pk, _code, _version, _owner in rows]
    for start in range(0, len(ids), 500):
        Customer.objects.filter(pk__in=ids[start : start + 500]).update(
            owner=to, updated_by=by, version=F("version") + 1, updated_at=timezone.now()
        )
    audit.record_all(
        audit.event(
            action=Action.BULK_UPDATE,
            object_type="customer",
            object_id=pk,
            label=code,
            customer_id=pk,
            by=by,
            changes={"owner": [names.get(old_owner), str(to)]},
            version=version + 1,
        )
        for pk, code, version, old_owner in rows
    )
    return len(rows)


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
