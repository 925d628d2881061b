"""Use cases of the duplicate queue: dismiss a pair, merge two customers, ask for a scan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import User
from cartera.activities.models import (
    Attachment,
    EntryKind,
    FollowUpEntry,
    LifecycleChange,
    Note,
    Reminder,
    Task,
    TimelineEntry,
)
from cartera.activities.services import add_entry
from cartera.audit import services as audit
from cartera.audit.models import Action, AuditEvent
from cartera.customers import services as customer_services
from cartera.customers.models import (
    Address,
    AddressType,
    Contact,
    ContactChannel,
    Customer,
    Stage,
)
from cartera.customers.validation import ADDRESS_FIELDS, CustomerInvalid
from cartera.privacy.models import ConsentRecord, DataSubjectRequest
from cartera.quality.models import DuplicatePair, Merge, PairStatus, Scan
from cartera.quality.movers import MergeContext, merge_movers, register_merge_mover
from cartera.quality.scan import email_key, phone_key

__all__ = ["MERGE_FIELDS", "dismiss_pair", "merge_customers", "register_merge_mover"]

SURVIVOR, OTHER, BOTH = "survivor", "other", "both"


@dataclass(frozen=True)
class MergeField:
    """One choice of the merge screen: the customer fields it carries over together."""

    name: str
    label: Any
    fields: tuple[str, ...]
    both: bool = False  # the two texts may be kept, one after the other


MERGE_FIELDS: tuple[MergeField, ...] = (
    MergeField("kind", gettext_lazy("Kind"), ("kind",)),
    MergeField("legal_name", gettext_lazy("Legal name"), ("legal_name",)),
    MergeField("trade_name", gettext_lazy("Trade name"), ("trade_name",)),
    MergeField("first_name", gettext_lazy("First name"), ("first_name",)),
    MergeField("last_name", gettext_lazy("Surnames"), ("last_name",)),
    MergeField("fiscal_type", gettext_lazy("Fiscal type"), ("fiscal_type",)),
    MergeField("legal_form", gettext_lazy("Legal form"), ("legal_form",)),
    MergeField("tax_id", gettext_lazy("Tax id"), ("tax_id", "tax_country")),
    MergeField("fiscal_address", gettext_lazy("Fiscal address"), ()),
    MergeField("stage", gettext_lazy("Stage"), ("stage", "loss_reason", "loss_detail")),
    MergeField("status", gettext_lazy("Status"), ("status", "status_reason")),
    MergeField("owner", gettext_lazy("Owner"), ("owner",)),
    MergeField("group", gettext_lazy("Group"), ("group",)),
    MergeField("follow_up", gettext_lazy("Follow-up"), ("follow_up",)),
    MergeField("payment_method", gettext_lazy("Payment method"), ("payment_method",)),
    MergeField("payment_terms_days", gettext_lazy("Payment terms (days)"), ("payment_terms_days",)),
    MergeField("currency", gettext_lazy("Currency"), ("currency",)),
    MergeField("language", gettext_lazy("Language"), ("language",)),
    MergeField("lead_source", gettext_lazy("Lead source"), ("lead_source",)),
    MergeField("sector", gettext_lazy("Sector"), ("sector",)),
    MergeField("size", gettext_lazy("Size"), ("size",)),
    MergeField("annual_revenue", gettext_lazy("Estimated annual revenue"), ("annual_revenue",)),
    MergeField("purchase_potential", gettext_lazy("Purchase potential"), ("purchase_potential",)),
    MergeField("notes", gettext_lazy("Notes"), ("notes",), both=True),
)
FIELDS_BY_NAME = {f.name: f for f in MERGE_FIELDS}


def _empty(value: Any) -> bool:
    return value in (None, "", False)


def fiscal_address(customer: Customer) -> Address | None:
    return next((a for a in customer.addresses.all() if a.type == AddressType.FISCAL), None)


def field_value(customer: Customer, item: MergeField) -> Any:
    """The value a choice stands for on one customer (None when it has none)."""
    if item.name == "fiscal_address":
        return fiscal_address(customer)
    value = getattr(customer, item.fields[0])
    return None if _empty(value) else value


def default_choices(survivor: Customer, other: Customer) -> dict[str, str]:
    """The survivor's value wherever it has one, the other's where only the other has one;
    and the other's stage when it is a client and the survivor is not, so that keeping the
    newer record never makes a client a lead again."""
    choices = {
        item.name: (
            OTHER
            if field_value(survivor, item) is None and field_value(other, item) is not None
            else SURVIVOR
        )
        for item in MERGE_FIELDS
    }
    if other.stage == Stage.CLIENT and survivor.stage != Stage.CLIENT:
        choices["stage"] = OTHER
    return choices


def _clean_choices(choices: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for name, value in choices.items():
        item = FIELDS_BY_NAME.get(str(name))
        if item is None:
            errors[f"choices.{name}"] = [_("This field cannot be chosen.")]
        elif value not in ((SURVIVOR, OTHER, BOTH) if item.both else (SURVIVOR, OTHER)):
            errors[f"choices.{name}"] = [_("Select a valid choice.")]
        else:
            clean[item.name] = str(value)
    if errors:
        raise CustomerInvalid(errors)
    return clean


def _editable(customer: Customer, by: User) -> Customer:
    """The customer, locked, if ``by`` may change it; 404-like PermissionDenied otherwise."""
    found = (
        Customer.objects.editable_by(by).select_for_update().filter(pk=customer.pk).first()
        if by.can_write
        else None
    )
    if found is None:
        raise PermissionDenied
    return found


# --- Dismiss ----------------------------------------------------------------------------


@transaction.atomic
def dismiss_pair(*, pair: DuplicatePair, by: User) -> DuplicatePair:
    """Say two customers are not the same: later scans leave the pair dismissed."""
    pair = _reviewable(pair, by)
    if pair.status == PairStatus.OPEN:
        pair.status = PairStatus.DISMISSED
        pair.decided_by = by
        pair.decided_at = timezone.now()
        pair.save(update_fields=["status", "decided_by", "decided_at"])
    return pair


@transaction.atomic
def reopen_pair(*, pair: DuplicatePair, by: User) -> DuplicatePair:
    """Put a dismissed pair back in the queue."""
    pair = _reviewable(pair, by)
    if pair.status == PairStatus.DISMISSED:
        pair.status = PairStatus.OPEN
        pair.decided_by = by
        pair.decided_at = timezone.now()
        pair.save(update_fields=["status", "decided_by", "decided_at"])
    return pair


def _reviewable(pair: DuplicatePair, by: User) -> DuplicatePair:
    found = DuplicatePair.objects.reviewable_by(by).select_for_update().filter(pk=pair.pk).first()
    if found is None or not by.can_write:
        raise PermissionDenied
    return found


# --- Scan -------------------------------------------------------------------------------


def request_scan(*, by: User) -> str:
    """Queue a scan of the whole register for the worker (managers and administrators)."""
    from cartera.quality.jobs import scan_duplicates_job

    if not (by.sees_whole_portfolio and by.can_write):
        raise PermissionDenied
    return str(scan_duplicates_job.enqueue().id)


@dataclass(frozen=True)
class ScanState:
    """Whether a scan is waiting or running, and when the last one ended."""

    pending: bool
    last: datetime | None


def scan_state() -> ScanState:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from cartera.quality.jobs import scan_duplicates_job

    runs = DBTaskResult.objects.filter(task_path=scan_duplicates_job.module_path)
    waiting = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    last = Scan.objects.values_list("finished_at", flat=True).first()
    if last is None:  # scans the worker ran before scans were recorded
        done = runs.filter(status=TaskResultStatus.SUCCESSFUL).order_by("-finished_at")
        last = done.values_list("finished_at", flat=True).first()
    return ScanState(pending=runs.filter(status__in=waiting).exists(), last=last)


# --- Merge ------------------------------------------------------------------------------


@transaction.atomic
def merge_customers(
    *, survivor: Customer, other: Customer, choices: Mapping[str, Any], by: User
) -> Customer:
    """Merge ``other`` into ``survivor``; ``choices`` says whose value each field keeps.

    The chosen values go through ``update_customer`` (its validation applies); channels,
    addresses and contacts move unless the survivor has them already; tasks, notes, documents,
    timeline, reminders, follow-up lists, consents and data-protection requests move, and so
    do other apps' rows (``register_merge_mover``). The other customer is archived, pointing at
    the survivor; both timelines and histories say so. One transaction: a refusal keeps nothing.
    """
    if survivor.pk == other.pk:
        raise CustomerInvalid({"__all__": [_("A customer cannot be merged with itself.")]})
    # Lock in id order, whichever is kept, so that two merges cannot wait on each other.
    first, second = sorted([survivor, other], key=lambda c: c.pk)
    locked = {c.pk: _editable(c, by) for c in (first, second)}
    survivor, other = locked[survivor.pk], locked[other.pk]
    for customer in (survivor, other):
        if customer.archived_at is not None:
            raise CustomerInvalid(
                {
                    "__all__": [
                        _("%(code)s is archived: restore it first.") % {"code": customer.code}
                    ]
                }
            )
    chosen = default_choices(survivor, other) | _clean_choices(choices)
    data = _chosen_data(survivor, other, chosen)
    if "tax_id" in data and other.tax_id:
        _free_tax_id(other, by=by)
    context = MergeContext(survivor=survivor, other=other, by=by)
    moved = _move_register_rows(context, chosen)
    moved |= _move_activity_rows(context)
    for mover in merge_movers():
        for kind, count in mover(context).items():
            moved[kind] = moved.get(kind, 0) + count
    tags = _tags_to_add(survivor, other)
    if tags:
        data["tags"] = tags
    if data:
        survivor = customer_services.update_customer(
            customer=survivor,
            data=data,
            by=by,
            reason=_("Merged with %(code)s.") % {"code": other.code},
        )
    else:
        customer_services.refresh_search_text(survivor)
    other = customer_services.archive_customer(customer=other, by=by)
    _record(survivor, other, chosen, moved, by=by)
    return survivor


def _chosen_data(survivor: Customer, other: Customer, chosen: Mapping[str, str]) -> dict:
    """The values to give the survivor: those chosen from the other that differ."""
    data: dict[str, Any] = {}
    for item in MERGE_FIELDS:
        choice = chosen[item.name]
        if not item.fields or choice == SURVIVOR:
            continue
        if choice == BOTH:
            texts = [t for t in (survivor.notes.strip(), other.notes.strip()) if t]
            combined = "\n\n".join(dict.fromkeys(texts))
            if combined != survivor.notes:
                data["notes"] = combined
            continue
        values = {name: getattr(other, name) for name in item.fields}
        if any(values[name] != getattr(survivor, name) for name in item.fields):
            data.update(values)
    return data


def _free_tax_id(other: Customer, *, by: User) -> None:
    """Take the tax id off the other customer, so that the survivor may hold it (the id is
    unique per country). Recorded in the other's history; undone if the merge fails."""
    before = {"tax_id": other.tax_id, "tax_id_type": other.tax_id_type}
    Customer.objects.filter(pk=other.pk).update(
        tax_id="", tax_id_type="", version=other.version + 1, updated_by=by
    )
    other.tax_id, other.tax_id_type, other.version = "", "", other.version + 1
    changes = {name: [value, ""] for name, value in before.items() if value}
    audit.record_on_customer(other, action=Action.UPDATE, by=by, changes=changes,
                             version=other.version)  # fmt: skip


def _tags_to_add(survivor: Customer, other: Customer) -> list[str] | None:
    mine = {t.name for t in survivor.tags.all()}
    theirs = {t.name for t in other.tags.all()}
    return sorted(mine | theirs) if theirs - mine else None


def _channel_key(channel: ContactChannel) -> tuple[str, str]:
    if channel.type == "email":
        return channel.type, email_key(channel.value) or channel.value.casefold()
    if channel.type == "phone":
        return channel.type, phone_key(channel.value) or channel.value
    return channel.type, channel.value.strip().casefold().rstrip("/")


def _address_key(address: Address) -> tuple[str, ...]:
    return tuple(
        " ".join(str(getattr(address, name)).casefold().split())
        for name in ADDRESS_FIELDS
        if name not in ("id", "type")
    )


def _contact_key(contact: Contact) -> tuple[Any, ...]:
    return (
        " ".join(contact.first_name.casefold().split()),
        " ".join(contact.last_name.casefold().split()),
        contact.email.casefold(),
        contact.phone,
        contact.mobile,
        contact.birthday,
    )


@dataclass(frozen=True)
class Brought:
    """A channel, address or contact of the merged customer: whether the kept one has it
    already, or it repeats one listed before it (then it is not copied, or copied once); an
    address the kept one has already may become its fiscal address."""

    text: str
    kind: str
    already: bool
    repeated: bool = False
    becomes_fiscal: bool = False


@dataclass
class AddressPlan:
    """How the merged customer's addresses come over, for the merge and its preview alike.

    An address the kept customer has already is not copied, nor one listed twice; the merged
    customer's fiscal address moves as another address unless it is chosen, and then it is
    the kept customer's fiscal address (the copy the kept customer has of it, if it has one),
    and the kept customer's old fiscal address stays as another address."""

    steps: list[tuple[Address, Address]]  # each of the merged one's and the address it becomes
    kept: set[tuple[str, ...]]  # the kept customer's addresses before the merge
    kept_by: int  # the kept customer
    fiscal: Address | None = None  # the chosen fiscal address, where it ends up
    demoted: Address | None = None  # the kept customer's fiscal address, no longer fiscal

    def moved(self) -> list[Address]:
        return [address for address, target in self.steps if address is target]

    def type_after(self, address: Address) -> str:
        if address is self.fiscal:
            return AddressType.FISCAL
        if address is self.demoted or (
            address.type == AddressType.FISCAL and address.customer_id != self.kept_by
        ):
            return AddressType.OTHER
        return str(address.type)


def plan_addresses(survivor: Customer, other: Customer, *, take_fiscal: bool) -> AddressPlan:
    own = list(survivor.addresses.all())
    mine: dict[tuple[str, ...], Address] = {}
    for address in own:
        mine.setdefault(_address_key(address), address)
    plan = AddressPlan(steps=[], kept=set(mine), kept_by=survivor.pk)
    for address in other.addresses.all():
        target = mine.setdefault(_address_key(address), address)
        plan.steps.append((address, target))
        if take_fiscal and address.type == AddressType.FISCAL:
            plan.fiscal = target
    kept_fiscal = next((a for a in own if a.type == AddressType.FISCAL), None)
    if plan.fiscal is not None and kept_fiscal is not None and kept_fiscal is not plan.fiscal:
        plan.demoted = kept_fiscal
    return plan


def register_rows_brought(
    survivor: Customer, other: Customer, *, home_region: str, take_fiscal: bool
) -> dict[str, list[Brought]]:
    """The merged customer's channels, addresses and contacts, compared as the merge compares
    them: {"channels": [...], "addresses": [...], "contacts": [...]}; phones are shown as the
    ficha shows them (national in ``home_region``), addresses with the type they will have."""
    kept_channels = {_channel_key(c) for c in survivor.channels.all()}
    kept_contacts = {_contact_key(c) for c in survivor.contacts.all()}
    channels = [(c.display(home_region), c.get_type_display(), _channel_key(c))
                for c in other.channels.all()]  # fmt: skip
    plan = plan_addresses(survivor, other, take_fiscal=take_fiscal)
    addresses = [
        Brought(
            str(address),
            str(AddressType(plan.type_after(target)).label),
            already=_address_key(address) in plan.kept,
            repeated=target is not address and _address_key(address) not in plan.kept,
            becomes_fiscal=(
                address.type == AddressType.FISCAL
                and target is plan.fiscal
                and target.type != AddressType.FISCAL
            ),
        )
        for address, target in plan.steps
    ]
    return {
        # The merge copies one of the merged customer's repeated channels and addresses.
        "channels": _brought(channels, kept_channels),
        "addresses": addresses,
        "contacts": [
            Brought(c.full_name, c.role, _contact_key(c) in kept_contacts)
            for c in other.contacts.all()
        ],
    }


def _brought(items: list[tuple[str, str, Any]], kept: set[Any]) -> list[Brought]:
    seen: set[Any] = set()
    listed = []
    for text, kind, key in items:
        listed.append(Brought(text, kind, key in kept, repeated=key in seen - kept))
        seen.add(key)
    return listed


def _moved_event(
    context: MergeContext, object_type: str, obj: Any, changes: dict[str, list[Any]] | None = None
) -> AuditEvent:
    """The kept customer's history line for a row the merge moved (or, with ``changes``,
    changed: its address that is fiscal no longer, or is now)."""
    return audit.event(
        action=Action.MERGE,
        object_type=object_type,
        object_id=obj.pk,
        label=str(obj),
        customer_id=context.survivor.pk,
        by=context.by,
        changes=changes or {"customer": [context.other.code, context.survivor.code]},
        version=context.survivor.version,
    )


def _move_register_rows(context: MergeContext, chosen: Mapping[str, str]) -> dict[str, int]:
    """Channels, addresses and contacts that the survivor does not have yet."""
    survivor, other = context.survivor, context.other
    events: list[AuditEvent] = []

    # Channels: after the survivor's; a main one stays main only if the survivor has none.
    mine = list(survivor.channels.all())
    keys = {_channel_key(c) for c in mine}
    main_types = {c.type for c in mine if c.is_primary}
    position = max((c.position for c in mine), default=-1) + 1
    channels = []
    for channel in other.channels.all():
        if _channel_key(channel) in keys:
            continue
        keys.add(_channel_key(channel))
        channel.customer = survivor
        channel.position = position
        position += 1
        if channel.is_primary and channel.type in main_types:
            channel.is_primary = False
        main_types |= {channel.type} if channel.is_primary else set()
        channels.append(channel)
        events.append(_moved_event(context, "channel", channel))
    ContactChannel.objects.bulk_update(channels, ["customer", "position", "is_primary"])

    # Addresses: one fiscal address; the one not chosen stays as another address.
    plan = plan_addresses(survivor, other, take_fiscal=chosen["fiscal_address"] == OTHER)

    def retype(address: Address, to: str) -> None:
        events.append(_moved_event(context, "address", address, {"type": [address.type, to]}))
        address.type = to
        address.save(update_fields=["type"])

    if plan.demoted is not None:  # first, as a customer has one fiscal address at a time
        retype(plan.demoted, AddressType.OTHER)
    addresses = plan.moved()
    for address in addresses:
        address.type = plan.type_after(address)
        address.customer = survivor
        events.append(_moved_event(context, "address", address))
    Address.objects.bulk_update(addresses, ["customer", "type"])
    if plan.fiscal is not None and plan.fiscal.type != AddressType.FISCAL:
        retype(plan.fiscal, AddressType.FISCAL)  # the kept customer's copy of the chosen one

    # Contacts: a person both customers have is kept once; what pointed at the other's copy
    # points at the survivor's.
    contact_keys = {_contact_key(c): c.pk for c in survivor.contacts.all()}
    has_main = any(c.is_primary for c in survivor.contacts.all())
    contacts = []
    for contact in other.contacts.all():
        same = contact_keys.get(_contact_key(contact))
        if same is not None:
            context.contacts[contact.pk] = same
            continue
        contact.customer = survivor
        if contact.is_primary and has_main:
            contact.is_primary = False
        has_main = has_main or contact.is_primary
        contacts.append(contact)
        events.append(_moved_event(context, "contact", contact))
    Contact.objects.bulk_update(contacts, ["customer", "is_primary"])
    audit.record_all(events)
    return {"channels": len(channels), "addresses": len(addresses), "contacts": len(contacts)}


def _move_activity_rows(context: MergeContext) -> dict[str, int]:
    """The relationship's rows (activities and data protection) of the other customer."""
    survivor, other = context.survivor, context.other
    moved: dict[str, int] = {}
    for kind, model in (
        ("tasks", Task),
        ("notes", Note),
        ("documents", Attachment),
        ("timeline", TimelineEntry),
        ("lifecycle_changes", LifecycleChange),
        ("reminders", Reminder),
        ("consents", ConsentRecord),
        ("privacy_requests", DataSubjectRequest),
    ):
        moved[kind] = model.objects.filter(customer=other).update(customer=survivor)
    for old, new in context.contacts.items():
        for model in (Task, Note, Reminder, ConsentRecord, DataSubjectRequest):
            model.objects.filter(contact_id=old).update(contact_id=new)
    # A list holds a customer once: the other's place in a list the survivor is in stays put.
    already = FollowUpEntry.objects.filter(customer=survivor).values("follow_up_list_id")
    moved["follow_up_entries"] = (
        FollowUpEntry.objects.filter(customer=other)
        .exclude(follow_up_list_id__in=already)
        .update(customer=survivor)
    )
    return moved


def _record(
    survivor: Customer,
    other: Customer,
    chosen: Mapping[str, str],
    moved: Mapping[str, int],
    *,
    by: User,
) -> None:
    """The merge's pointer, the pair's outcome, both timelines and both histories."""
    now = timezone.now()
    taken = {name: choice for name, choice in chosen.items() if choice != SURVIVOR}
    Merge.objects.create(
        survivor=survivor, merged=other, merged_by=by, merged_at=now, choices=taken,
        moved=dict(moved),
    )  # fmt: skip
    a, b = sorted([survivor.pk, other.pk])
    pair = DuplicatePair.objects.filter(customer_a_id=a, customer_b_id=b).first()
    if pair is None:
        DuplicatePair.objects.create(
            customer_a_id=a, customer_b_id=b, score=100, reasons=[], status=PairStatus.MERGED,
            found_at=now, seen_at=now, decided_by=by, decided_at=now,
        )  # fmt: skip
    else:
        pair.status, pair.decided_by, pair.decided_at = PairStatus.MERGED, by, now
        pair.save(update_fields=["status", "decided_by", "decided_at"])
    # Open pairs of the archived customer are about a record that left the register.
    DuplicatePair.objects.open().filter(Q(customer_a=other) | Q(customer_b=other)).delete()
    counts = {kind: n for kind, n in moved.items() if n}
    add_entry(
        survivor,
        EntryKind.MERGE,
        by=by,
        at=now,
        data={
            "text": _("%(code)s (%(name)s) was merged into this customer.")
            % {"code": other.code, "name": other.display_name},
            "merged": other.pk,
            "moved": counts,
        },
    )
    add_entry(
        other,
        EntryKind.MERGE,
        by=by,
        at=now,
        data={
            "text": _("Merged into %(code)s (%(name)s) and archived.")
            % {"code": survivor.code, "name": survivor.display_name},
            "survivor": survivor.pk,
        },
    )
    audit.record_on_customer(
        survivor, action=Action.MERGE, by=by, version=survivor.version,
        changes={"merged_from": [None, other.code]},  # the values taken: the update before
    )  # fmt: skip
    audit.record_on_customer(
        other, action=Action.MERGE, by=by, version=other.version,
        changes={"merged_into": [None, survivor.code]},
    )  # fmt: skip


def merge_for(customer: Customer) -> Merge | None:
    """The merge that archived ``customer``, if any."""
    return Merge.objects.filter(merged=customer).first()
