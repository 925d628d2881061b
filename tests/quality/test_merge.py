"""Merging two customers: every related row moves, chosen values apply, nothing is lost."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from cartera.accounts.models import User
from cartera.activities import documents, follow_up
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
from cartera.activities.services import create_task, log_note
from cartera.audit.models import Action, AuditEvent
from cartera.customers.models import Address, Contact, ContactChannel, Customer, Tag
from cartera.customers.validation import CustomerInvalid
from cartera.privacy import services as privacy
from cartera.privacy.models import ConsentRecord, DataSubjectRequest
from cartera.quality import movers
from cartera.quality.models import DuplicatePair, Merge, PairStatus
from cartera.quality.services import default_choices, merge_customers, register_rows_brought
from tests.conftest import CIF_SL, make_customer, make_lead, valid_cif

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def survivor(owner: User) -> Customer:
    return make_customer(
        owner,
        legal_name="Muñoz y Asociados SL",
        notes="Llamar por la tarde.",
        contacts=[{"first_name": "Lucía", "last_name": "Muñoz", "email": "lucia@munoz.example"}],
    )


@pytest.fixture
def other(owner: User) -> Customer:
    """The same company typed again: another tax id, one shared e-mail, more to bring."""
    customer = make_customer(
        owner,
        legal_name="Munoz Asociados",
        trade_name="Muñoz Abogados",
        tax_id=valid_cif(7654321),
        notes="Cliente desde la feria de 2024.",
        tags=["feria"],
        channels=[
            {"type": "email", "value": "INFO@munoz.example"},  # the survivor has it already
            {"type": "phone", "value": "+34 910 00 00 01", "is_primary": True},
            {"type": "website", "value": "https://munoz.example"},
        ],
        addresses=[
            {
                "type": "fiscal",
                "street": "Gran Vía",
                "exterior_number": "1",
                "postal_code": "28013",
                "municipality": "Madrid",
                "country": "ES",
            },
            {
                "type": "shipping",
                "street": "Polígono Sur",
                "exterior_number": "7",
                "postal_code": "28906",
                "municipality": "Getafe",
                "country": "ES",
            },
        ],
        contacts=[
            {"first_name": "Lucía", "last_name": "Muñoz", "email": "lucia@munoz.example"},
            {"first_name": "Pedro", "last_name": "Sanz", "role": "Compras"},
        ],
    )
    return customer


def one_of_each(customer: Customer, by: User, manager: User) -> dict[str, Any]:
    """One row of every kind that hangs off a customer, pointing at its first contact."""
    contact = customer.contacts.get(first_name="Lucía")
    task = create_task(
        customer=customer,
        data={"type": "call", "subject": "Llamar a Lucía", "due_date": TODAY, "contact": contact},
        by=by,
    )
    note = log_note(customer=customer, data={"kind": "note", "body": "Nota del otro"}, by=by)
    document = documents.attach_document(
        customer=customer, by=by, file=SimpleUploadedFile("contrato.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    reminder = Reminder.objects.create(
        user=by, customer=customer, contact=contact, kind="birthday", due_date=TODAY,
        key=f"test:{customer.pk}",
    )  # fmt: skip
    listed = follow_up.create_list(name="Ferias", by=by)
    follow_up.add_entries(follow_up_list=listed, ids=[customer.pk], by=by)
    consent = privacy.record_consent(
        customer=customer, by=by, purpose="commercial", legal_basis="consent", state="granted",
        recorded_on=TODAY, contact=contact,
    )  # fmt: skip
    request = privacy.open_request(customer=customer, by=manager, kind="access", received_on=TODAY)
    return {
        "task": task,
        "note": note,
        "document": document,
        "reminder": reminder,
        "entry": FollowUpEntry.objects.get(customer=customer),
        "consent": consent,
        "request": request,
        "timeline": list(TimelineEntry.objects.filter(customer=customer)),
        "changes": list(LifecycleChange.objects.filter(customer=customer)),
    }


@pytest.fixture
def clean_files() -> Iterator[None]:
    yield
    for item in Attachment.objects.all():
        item.file.storage.delete(item.file.name)


@pytest.mark.usefixtures("clean_files")
def test_merge_moves_every_related_row(
    survivor: Customer, other: Customer, owner: User, manager: User
) -> None:
    # given one row of every kind on the other customer
    rows = one_of_each(other, owner, manager)
    lucia = survivor.contacts.get(first_name="Lucía")
    # when
    kept = merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    # then every row is the survivor's
    for name in ("task", "note", "document", "reminder", "entry", "consent", "request"):
        rows[name].refresh_from_db()
        assert rows[name].customer_id == kept.pk, name
    for item in rows["timeline"] + rows["changes"]:
        item.refresh_from_db()
        assert item.customer_id == kept.pk
    # the duplicate contact is kept once; what pointed at the other's copy points at Lucía
    assert rows["task"].contact_id == lucia.pk
    assert rows["reminder"].contact_id == lucia.pk
    assert rows["consent"].contact_id == lucia.pk
    assert sorted(kept.contacts.values_list("first_name", flat=True)) == ["Lucía", "Pedro"]
    # channels: the e-mail the survivor had is not doubled, the rest came over
    values = list(kept.channels.values_list("type", "value", "is_primary"))
    assert [v for v in values if v[0] == "email"] == [("email", "info@munoz.example", False)]
    assert ("website", "https://munoz.example", False) in values
    assert sum(1 for v in values if v[0] == "phone" and v[2]) == 1  # one main phone
    # addresses: the survivor's fiscal one stays; the other's is kept as another address
    types = sorted(kept.addresses.values_list("type", "street"))
    assert types == [("fiscal", "Calle Mayor"), ("other", "Gran Vía"), ("shipping", "Polígono Sur")]
    # the duplicates stayed with the archived customer, nothing was deleted
    assert other.channels.count() == 1 and other.contacts.count() == 1
    assert "feria" in set(kept.tags.values_list("name", flat=True))
    assert "munoz.example" in Customer.objects.get(pk=kept.pk).search_text


def test_chosen_values_are_applied_and_the_other_is_archived_and_linked(
    survivor: Customer, other: Customer, owner: User
) -> None:
    choices = {
        "legal_name": "other",
        "trade_name": "other",
        "notes": "both",
        "fiscal_address": "other",
    }
    kept = merge_customers(survivor=survivor, other=other, choices=choices, by=owner)
    kept.refresh_from_db()
    assert kept.legal_name == "Munoz Asociados"
    assert kept.trade_name == "Muñoz Abogados"
    assert kept.notes == "Llamar por la tarde.\n\nCliente desde la feria de 2024."
    assert kept.addresses.get(type="fiscal").street == "Gran Vía"
    assert kept.addresses.get(type="other").street == "Calle Mayor"
    assert kept.tax_id == CIF_SL  # not chosen: the survivor's
    other.refresh_from_db()
    assert other.archived_at is not None
    merge = Merge.objects.get(merged=other)
    assert merge.survivor_id == kept.pk and merge.merged_by == owner
    assert merge.choices["legal_name"] == "other" and merge.moved["contacts"] == 1
    pair = DuplicatePair.objects.get(customer_a=survivor, customer_b=other)
    assert pair.status == PairStatus.MERGED


def addresses_of(customer: Customer) -> list[tuple[str, str]]:
    return sorted(customer.addresses.values_list("type", "street"))


def test_a_chosen_fiscal_address_the_kept_one_has_becomes_fiscal_without_a_copy(
    survivor: Customer, other: Customer, owner: User
) -> None:
    # given a kept customer that ships to the address the merged one has as fiscal
    copy = other.addresses.get(type="fiscal")
    copy.pk, copy.customer, copy.type = None, survivor, "shipping"
    copy.save()

    # when the preview is asked for, with the merged customer's fiscal address chosen
    listed = register_rows_brought(survivor, other, home_region="ES", take_fiscal=True)

    # then it says the kept one has it and that it becomes fiscal; the rest is copied as is
    assert [(a.kind, a.already, a.becomes_fiscal) for a in listed["addresses"]] == [
        ("Fiscal", True, True),
        ("Envío", False, False),
    ]

    # and the merge does just that: no second Gran Vía, the old fiscal address kept as another
    kept = merge_customers(
        survivor=survivor, other=other, choices={"fiscal_address": "other"}, by=owner
    )
    assert addresses_of(kept) == [
        ("fiscal", "Gran Vía"), ("other", "Calle Mayor"), ("shipping", "Polígono Sur"),
    ]  # fmt: skip
    # and the kept customer's history says which address stopped being fiscal and which became it
    changed = AuditEvent.objects.filter(
        customer_id=kept.pk, action=Action.MERGE, object_type="address", changes__has_key="type"
    )
    assert sorted((e.object_label.split(" ")[0], e.changes["type"]) for e in changed) == [
        ("Calle", ["fiscal", "other"]), ("Gran", ["shipping", "fiscal"]),
    ]  # fmt: skip


def test_the_preview_gives_each_address_the_type_the_merge_gives_it(
    survivor: Customer, other: Customer, owner: User
) -> None:
    # given the merged customer's fiscal address, not chosen
    listed = register_rows_brought(survivor, other, home_region="ES", take_fiscal=False)

    # then the preview shows it as another address, as the merge then keeps it
    shown = [(a.text.split(",")[0], a.kind, a.already) for a in listed["addresses"]]
    assert shown == [("Gran Vía 1", "Otra", False), ("Polígono Sur 7", "Envío", False)]
    kept = merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    assert addresses_of(kept) == [
        ("fiscal", "Calle Mayor"), ("other", "Gran Vía"), ("shipping", "Polígono Sur"),
    ]  # fmt: skip

    # and when it is chosen, it is fiscal and the kept one's fiscal address another one
    third = make_customer(
        owner, legal_name="Otro Muñoz SL", tax_id=valid_cif(7654329),
        addresses=[{"type": "fiscal", "street": "Calle Alcalá", "exterior_number": "5",
                    "postal_code": "28014", "municipality": "Madrid", "country": "ES"}],
    )  # fmt: skip
    listed = register_rows_brought(third, kept, home_region="ES", take_fiscal=True)
    shown = [(a.text.split(",")[0], a.kind, a.already) for a in listed["addresses"]]
    assert shown == [("Calle Mayor 28 3º B", "Fiscal", False), ("Gran Vía 1", "Otra", False),
                     ("Polígono Sur 7", "Envío", False)]  # fmt: skip
    merged = merge_customers(
        survivor=third, other=kept, choices={"fiscal_address": "other"}, by=owner
    )
    assert addresses_of(merged) == [
        ("fiscal", "Calle Mayor"), ("other", "Calle Alcalá"), ("other", "Gran Vía"),
        ("shipping", "Polígono Sur"),
    ]  # fmt: skip


def test_the_other_tax_id_can_be_taken_over(
    survivor: Customer, other: Customer, owner: User
) -> None:
    taken = other.tax_id
    kept = merge_customers(survivor=survivor, other=other, choices={"tax_id": "other"}, by=owner)
    kept.refresh_from_db()
    other.refresh_from_db()
    assert kept.tax_id == taken and other.tax_id == ""
    freed = AuditEvent.objects.get(
        customer_id=other.pk, action=Action.UPDATE, changes__has_key="tax_id"
    )
    assert freed.changes["tax_id"] == [taken, ""]


def test_timelines_and_histories_of_both_say_so(
    survivor: Customer, other: Customer, owner: User
) -> None:
    merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    kept_entry = TimelineEntry.objects.get(customer=survivor, kind=EntryKind.MERGE)
    gone_entry = TimelineEntry.objects.get(customer=other, kind=EntryKind.MERGE)
    assert kept_entry.data["merged"] == other.pk and other.code in kept_entry.data["text"]
    assert gone_entry.data["survivor"] == survivor.pk and survivor.code in gone_entry.data["text"]
    assert kept_entry.actor == owner
    kept_event = AuditEvent.objects.get(
        customer_id=survivor.pk, action=Action.MERGE, object_type="customer"
    )
    gone_event = AuditEvent.objects.get(
        customer_id=other.pk, action=Action.MERGE, object_type="customer"
    )
    assert kept_event.changes["merged_from"] == [None, other.code]
    assert gone_event.changes["merged_into"] == [None, survivor.code]
    assert AuditEvent.objects.filter(customer_id=other.pk, action=Action.ARCHIVE).exists()
    # each moved channel, address and contact is in the survivor's history
    assert (
        AuditEvent.objects.filter(
            customer_id=survivor.pk, action=Action.MERGE, object_type="channel"
        ).count()
        == 2
    )


def snapshot() -> dict[str, Any]:
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "channels": list(ContactChannel.objects.order_by("pk").values()),
        "addresses": list(Address.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.order_by("pk").values()),
        "tasks": list(Task.objects.order_by("pk").values("pk", "customer_id", "contact_id")),
        "notes": list(Note.objects.order_by("pk").values("pk", "customer_id")),
        "timeline": list(TimelineEntry.objects.order_by("pk").values("pk", "customer_id")),
        "consents": list(ConsentRecord.objects.order_by("pk").values("pk", "customer_id")),
        "requests": list(DataSubjectRequest.objects.order_by("pk").values("pk", "customer_id")),
        "events": AuditEvent.objects.count(),
        "merges": Merge.objects.count(),
        "tags": list(Customer.tags.through.objects.order_by("pk").values()),
    }


@pytest.mark.usefixtures("clean_files")
def test_an_invalid_chosen_value_is_refused_and_changes_nothing(
    survivor: Customer, other: Customer, owner: User, manager: User
) -> None:
    # given a client survivor and a lead whose (empty) tax id someone picks
    one_of_each(other, owner, manager)
    lead = make_lead(owner, "Muñoz Asociados")
    before = snapshot()
    # when the chosen empty tax id would leave a client that cannot be invoiced
    with pytest.raises(CustomerInvalid) as refused:
        merge_customers(survivor=survivor, other=lead, choices={"tax_id": "other"}, by=owner)
    # then the error names the field and nothing changed
    assert "tax_id" in refused.value.messages_by_field
    assert snapshot() == before
    # and a taken-over tax id that fails validation undoes its freeing too
    with pytest.raises(CustomerInvalid) as refused:
        merge_customers(
            survivor=survivor, other=other, choices={"tax_id": "other", "stage": "bad"}, by=owner
        )
    assert "choices.stage" in refused.value.messages_by_field
    assert snapshot() == before


def test_a_refusal_after_the_tax_id_was_freed_gives_it_back(
    survivor: Customer, other: Customer, owner: User
) -> None:
    # given an other customer that is a lead: a client cannot go back to lead
    Customer.objects.filter(pk=other.pk).update(stage="lead")
    before = snapshot()
    # when its tax id (freed first) and its stage are chosen
    with pytest.raises(CustomerInvalid) as refused:
        merge_customers(
            survivor=survivor, other=other, choices={"tax_id": "other", "stage": "other"}, by=owner
        )
    # then update_customer refused the stage, and the other still holds its tax id
    assert "stage" in refused.value.messages_by_field
    assert snapshot() == before


def test_only_users_who_may_edit_both_may_merge(
    survivor: Customer, owner: User, outsider: User, reader: User, team_visibility: Any
) -> None:
    theirs = make_customer(outsider, tax_id=valid_cif(2222222), legal_name="Muñoz Asociados")
    before = snapshot()
    for by in (outsider, reader, owner):
        with pytest.raises(PermissionDenied):
            merge_customers(survivor=survivor, other=theirs, choices={}, by=by)
    assert snapshot() == before


def test_a_customer_is_not_merged_with_itself_nor_twice(
    survivor: Customer, other: Customer, owner: User
) -> None:
    with pytest.raises(CustomerInvalid):
        merge_customers(survivor=survivor, other=survivor, choices={}, by=owner)
    merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    with pytest.raises(CustomerInvalid) as refused:
        merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    assert "__all__" in refused.value.messages_by_field


def test_other_apps_move_their_rows_through_the_registry(
    survivor: Customer, other: Customer, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int]] = []

    def move_things(merge: movers.MergeContext) -> dict[str, int]:
        seen.append((merge.survivor.pk, merge.other.pk))
        return {"things": 3}

    monkeypatch.setattr(movers, "_MOVERS", [])
    movers.register_merge_mover(move_things)
    movers.register_merge_mover(move_things)  # once is enough
    merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    assert seen == [(survivor.pk, other.pk)]
    assert Merge.objects.get(merged=other).moved["things"] == 3


def test_a_mover_can_refuse_the_merge(
    survivor: Customer, other: Customer, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(merge: movers.MergeContext) -> dict[str, int]:
        raise CustomerInvalid({"__all__": ["Open invoices in another currency."]})

    monkeypatch.setattr(movers, "_MOVERS", [refuse])
    before = snapshot()
    with pytest.raises(CustomerInvalid):
        merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    assert snapshot() == before


def test_default_choices_keep_the_survivors_non_empty_values(
    survivor: Customer, other: Customer
) -> None:
    choices = default_choices(survivor, other)
    assert choices["legal_name"] == "survivor"
    assert choices["trade_name"] == "other"  # the survivor has none
    assert choices["fiscal_address"] == "survivor"
    Tag.objects.all()  # tags are united, not chosen
    assert "tags" not in choices


def test_merge_moves_opportunities_and_sales_documents(
    survivor: Customer, other: Customer, owner: User
) -> None:
    from cartera.sales.models import Opportunity, PipelineStage, SalesDocument
    from tests.sales.conftest import make_invoice

    stage = PipelineStage.objects.filter(is_active=True).order_by("position").first()
    assert stage is not None
    opportunity = Opportunity.objects.create(
        customer=other, title="Renovar flota", amount=1000, currency="EUR", owner=owner,
        stage=stage,
    )  # fmt: skip
    invoice = make_invoice(other, owner, datetime.date.today(), "250")
    kept = merge_customers(survivor=survivor, other=other, choices={}, by=owner)
    opportunity.refresh_from_db()
    invoice.refresh_from_db()
    assert opportunity.customer_id == kept.pk
    assert invoice.customer_id == kept.pk
    assert SalesDocument.objects.filter(customer=other).count() == 0
    # the invoice now counts for the survivor's purchase activity
    assert Customer.objects.get(pk=kept.pk).activity == "active"
