"""Use cases of the pipeline: opportunities created, moved, won and lost; the stages."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import Role, User
from cartera.activities.models import EntryKind
from cartera.activities.services import add_entry, change_stage
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.core.models import Company
from cartera.customers.models import Customer, LossReason, Stage
from cartera.sales.models import (
    DocumentType,
    Opportunity,
    OpportunityQuerySet,
    Outcome,
    PipelineStage,
    SalesDocument,
)
from cartera.sales.services import SalesInvalid, writable_customer

FIELDS = ("title", "amount", "currency", "expected_close", "owner", "source", "stage", "notes")
AUDITED = ("title", "amount", "currency", "expected_close", "owner", "stage", "outcome")


def _clean(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    fields = {k: v for k, v in data.items() if k in FIELDS}
    errors: dict[str, list[str]] = {}
    if not partial or "title" in fields:
        fields["title"] = str(fields.get("title") or "").strip()
        if not fields["title"]:
            errors["title"] = [_("This field is required.")]
        elif len(fields["title"]) > 200:
            errors["title"] = [_("This text is too long.")]
    if "amount" in fields or not partial:
        amount = fields.get("amount")
        if isinstance(amount, int) and not isinstance(amount, bool):
            amount = fields["amount"] = Decimal(amount)
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            errors["amount"] = [_("Enter an amount of zero or more.")]
        elif amount >= Decimal("1e14"):
            errors["amount"] = [_("This number is too large.")]
    stage = fields.get("stage")
    if (not partial or "stage" in fields) and (
        not isinstance(stage, PipelineStage) or not stage.is_active
    ):
        errors["stage"] = [_("Select a valid choice.")]
    owner = fields.get("owner")
    if owner is not None and (
        not isinstance(owner, User) or not owner.is_active or owner.role == Role.READ_ONLY
    ):
        errors["owner"] = [_("This user cannot be given opportunities.")]
    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            errors["currency"] = [_("Enter a three-letter currency code (EUR, MXN…).")]
        fields["currency"] = currency
    if errors:
        raise SalesInvalid(errors)
    return fields


def _record(opportunity: Opportunity, action: str, by: User, changes: dict[str, Any]) -> None:
    audit.record(
        action=action,
        object_type="opportunity",
        object_id=opportunity.pk,
        label=opportunity.title,
        customer_id=opportunity.customer_id,
        by=by,
        changes=changes,
    )


@transaction.atomic
def create_opportunity(*, customer: Customer, data: Mapping[str, Any], by: User) -> Opportunity:
    """A new open opportunity; its owner is the customer's unless another is given."""
    customer = writable_customer(customer, by)
    fields = _clean(data, partial=False)
    fields["owner"] = fields.get("owner") or customer.owner
    fields["currency"] = (
        fields.get("currency") or customer.currency or (Company.load().default_currency)
    )
    opportunity = Opportunity.objects.create(customer=customer, **fields)
    _record(opportunity, Action.CREATE, by, {"title": [None, opportunity.title]})
    add_entry(
        customer,
        EntryKind.SALE,
        by=by,
        data={"text": _("Opportunity: %(title)s") % {"title": opportunity.title},
              "opportunity": opportunity.pk},
    )  # fmt: skip
    return opportunity


def _lock(opportunity: Opportunity, by: User) -> Opportunity:
    writable_customer(opportunity.customer, by)
    return Opportunity.objects.select_for_update().get(pk=opportunity.pk)


@transaction.atomic
def update_opportunity(
    *, opportunity: Opportunity, data: Mapping[str, Any], by: User
) -> Opportunity:
    """Change an opportunity's fields (moving it to another stage is one of them)."""
    opportunity = _lock(opportunity, by)
    fields = _clean(data, partial=True)
    if "stage" in fields and opportunity.outcome != Outcome.OPEN:
        raise SalesInvalid({"stage": [_("A closed opportunity does not change stage.")]})
    before = audit.snapshot(opportunity, AUDITED)
    for name, value in fields.items():
        if name == "owner" and value is None:
            continue
        setattr(opportunity, name, value)
    opportunity.save()
    changes = audit.diff(before, audit.snapshot(opportunity, AUDITED))
    if changes:
        _record(opportunity, Action.UPDATE, by, changes)
    return opportunity


def move_opportunity(*, opportunity: Opportunity, stage: PipelineStage, by: User) -> Opportunity:
    return update_opportunity(opportunity=opportunity, data={"stage": stage}, by=by)


@transaction.atomic
def win_opportunity(
    *, opportunity: Opportunity, by: User, document: SalesDocument | None = None
) -> Opportunity:
    """Mark an opportunity won (with the quote or order that won it); a lead or prospect
    becomes a client."""
    opportunity = _lock(opportunity, by)
    if opportunity.outcome != Outcome.OPEN:
        raise SalesInvalid({"outcome": [_("This opportunity is already closed.")]})
    if document is not None and (
        document.customer_id != opportunity.customer_id
        or document.type not in (DocumentType.QUOTE, DocumentType.ORDER)
    ):
        raise SalesInvalid({"document": [_("Choose a quote or order of the same customer.")]})
    customer = Customer.objects.get(pk=opportunity.customer_id)
    if customer.stage in (Stage.LEAD, Stage.PROSPECT):
        # The stage rules apply: a client needs invoiceable fiscal data.
        change_stage(
            customer=customer,
            to=Stage.CLIENT,
            by=by,
            reason=_("Won the opportunity “%(title)s”.") % {"title": opportunity.title},
        )
    opportunity.outcome = Outcome.WON
    opportunity.won_document = document
    opportunity.closed_at = timezone.now()
    opportunity.save()
    _record(opportunity, Action.UPDATE, by, {"outcome": [Outcome.OPEN, Outcome.WON]})
    add_entry(
        customer,
        EntryKind.SALE,
        by=by,
        data={"text": _("Opportunity won: %(title)s") % {"title": opportunity.title},
              "opportunity": opportunity.pk},
    )  # fmt: skip
    return opportunity


@transaction.atomic
def lose_opportunity(
    *, opportunity: Opportunity, by: User, reason: str, competitor: str = ""
) -> Opportunity:
    """Mark an opportunity lost, with the reason (and the competitor, when it went to one)."""
    opportunity = _lock(opportunity, by)
    if opportunity.outcome != Outcome.OPEN:
        raise SalesInvalid({"outcome": [_("This opportunity is already closed.")]})
    competitor = (competitor or "").strip()
    if reason not in LossReason.values:
        raise SalesInvalid({"lost_reason": [_("Say why the opportunity was lost.")]})
    if reason == LossReason.COMPETITOR and not competitor:
        raise SalesInvalid({"competitor": [_("Name the competitor that won it.")]})
    if len(competitor) > 200:
        raise SalesInvalid({"competitor": [_("This text is too long.")]})
    opportunity.outcome = Outcome.LOST
    opportunity.lost_reason = reason
    opportunity.competitor = competitor
    opportunity.closed_at = timezone.now()
    opportunity.save()
    _record(opportunity, Action.UPDATE, by, {"outcome": [Outcome.OPEN, Outcome.LOST]})
    add_entry(
        opportunity.customer_id,
        EntryKind.SALE,
        by=by,
        data={"text": _("Opportunity lost: %(title)s") % {"title": opportunity.title},
              "opportunity": opportunity.pk},
    )  # fmt: skip
    return opportunity


def weighted_value(opportunities: OpportunityQuerySet) -> dict[str, Decimal]:
    """Open pipeline per currency: the sum of amount × stage probability (one query)."""
    weighted = ExpressionWrapper(
        F("amount") * F("stage__probability") / Decimal("100"),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    rows = (
        opportunities.open()
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"), weighted=Sum(weighted))
    )
    return {
        row["currency"]: Decimal(row["weighted"] or 0).quantize(Decimal("0.01")) for row in rows
    }
