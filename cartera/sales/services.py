"""Use cases of sales documents: create, change, convert (quote → order → invoice), states.

Each function is one transaction. Documents are numbered when they are created, inside the
creating transaction, from a ``Sequence`` row per type and year taken with a row lock: two
documents created at once wait for each other, and a creation that fails gives its number
back with the rollback, so each series has no gaps and no duplicates.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cartera.accounts.models import Role, User
from cartera.activities.models import EntryKind
from cartera.activities.services import ActivityInvalid, add_entry, may_get_new_work
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.core.models import Company
from cartera.core.models import Sequence as NumberSeries
from cartera.customers.fiscal import format_tax_id
from cartera.customers.models import Customer
from cartera.sales.models import (
    PREFIXES,
    DocumentLine,
    DocumentState,
    DocumentType,
    PriceSource,
    Product,
    SalesDocument,
)
from cartera.sales.pricing import (
    HUNDRED,
    ZERO,
    compute_totals,
    line_amount,
    resolve_price,
    special_prices,
)

MAX_LINES = 200
LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
DOCUMENT_FIELDS = (
    "issue_date", "valid_until", "due_date", "customer_reference", "notes", "owner",
)  # fmt: skip
# What each type is made from.
MADE_FROM = {DocumentType.ORDER: DocumentType.QUOTE, DocumentType.INVOICE: DocumentType.ORDER}


class SalesInvalid(ActivityInvalid):
    """Input to a sales service was refused; ``messages_by_field`` names each field."""


# --- Reading ------------------------------------------------------------------------------


def writable_customer(customer: Customer, by: User) -> Customer:
    """The customer, if the user may give it new documents; PermissionDenied otherwise."""
    if not by.can_write:
        raise PermissionDenied
    found = Customer.objects.editable_by(by).select_related("group").filter(pk=customer.pk).first()
    if found is None:
        raise PermissionDenied
    return found


def series_key(doc_type: str, year: int) -> str:
    return f"sales.{doc_type}.{year}"


def take_number(doc_type: str, year: int) -> int:
    """The next number of a type's series for a year (call inside the creating transaction)."""
    return NumberSeries.take(series_key(doc_type, year))


def format_code(doc_type: str, year: int, number: int) -> str:
    return f"{PREFIXES[DocumentType(doc_type)]}-{year}-{number:05d}"


# --- Fiscal data, frozen on the document ------------------------------------------------------


def company_fiscal(company: Company) -> dict[str, str]:
    return {
        "legal_name": company.legal_name or str(company),
        "trade_name": company.trade_name,
        "tax_id": format_tax_id(company.tax_id, company.tax_country, "") or company.tax_id,
        "address": ", ".join(
            p
            for p in [company.street, f"{company.postal_code} {company.municipality}".strip()]
            if p
        ),
        "country": company.country,
        "email": company.email,
        "phone": company.phone,
    }


def customer_fiscal(customer: Customer) -> dict[str, str]:
    fiscal = next((a for a in customer.addresses.all() if a.type == "fiscal"), None)
    return {
        "code": customer.code,
        "legal_name": customer.legal_name,
        "trade_name": customer.trade_name,
        "tax_id": format_tax_id(customer.tax_id, customer.tax_country, customer.tax_id_type)
        or customer.tax_id,
        "tax_country": customer.tax_country,
        "address": ", ".join(fiscal.lines()) if fiscal else "",
    }


# --- Lines ------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def clean_lines(
    lines: Sequence[Mapping[str, Any]], *, customer: Customer
) -> tuple[list[DocumentLine], dict[str, list[str]]]:
    """Unsaved lines from the input, prices resolved where not given, and the errors by field
    path (``lines.2.quantity``)."""
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["lines"] = [_("Add at least one line.")]
    elif len(lines) > MAX_LINES:
        errors["lines"] = [_("A document has at most %(max)s lines.") % {"max": MAX_LINES}]
    if errors:
        return [], errors
    wanted = [line.get("product") for line in lines]
    ids = [p.pk if isinstance(p, Product) else p for p in wanted if p not in (None, "")]
    int_ids = [int(i) for i in ids if str(i).isdigit()]
    products = Product.objects.in_bulk(int_ids)
    specials = special_prices(customer, int_ids)
    built: list[DocumentLine] = []
    for index, data in enumerate(lines):
        where = f"lines.{index}"

        def error(field: str, message: str, where: str = where) -> None:
            errors.setdefault(f"{where}.{field}", []).append(message)

        product: Product | None = None
        ref = data.get("product")
        if ref not in (None, ""):
            key = ref.pk if isinstance(ref, Product) else ref
            product = products.get(int(key)) if str(key).isdigit() else None
            if product is None:
                error("product", _("This product does not exist."))
                continue
            if not product.is_active:
                error("product", _("This product is no longer sold."))
                continue
        values: dict[str, Decimal | None] = {}
        for name in ("quantity", "unit_price", "discount_percent", "tax_rate"):
            try:
                values[name] = _decimal(data.get(name))
            except ValueError:
                error(name, _("Enter a number."))
        description = str(data.get("description") or "").strip()
        if not description and product is not None:
            description = product.name
        if not description:
            error("description", _("This field is required."))
        elif len(description) > 300:
            error("description", _("This text is too long."))
        quantity = values.get("quantity")
        if quantity is None and f"{where}.quantity" not in errors:
            error("quantity", _("This field is required."))
        elif quantity is not None and (quantity <= 0 or abs(quantity) >= Decimal("1e9")):
            error("quantity", _("Enter a quantity greater than zero."))
        source: str = PriceSource.MANUAL
        unit_price, discount, rate = (
            values.get("unit_price"),
            values.get("discount_percent"),
            values.get("tax_rate"),
        )
        if product is not None:
            resolved = resolve_price(product, customer, specials=specials)
            if unit_price is None:
                unit_price, source = resolved.unit_price, resolved.source
                if discount is None:
                    discount = resolved.discount_percent
            if rate is None:
                rate = product.tax_rate
        if data.get("price_source") in PriceSource.values and unit_price is not None:
            source = PriceSource(data["price_source"])  # copied from the document it came from
        discount = ZERO if discount is None else discount
        if unit_price is None:
            if f"{where}.unit_price" not in errors:
                error("unit_price", _("Enter the price or choose a product."))
        elif unit_price < 0 or unit_price >= Decimal("1e10"):
            error("unit_price", _("Enter a price of zero or more."))
        if not ZERO <= discount <= HUNDRED:
            error("discount_percent", _("Enter a discount between 0 and 100."))
        if rate is None:
            if f"{where}.tax_rate" not in errors:
                error("tax_rate", _("Enter the tax rate or choose a product."))
        elif not ZERO <= rate <= HUNDRED:
            error("tax_rate", _("Enter a tax rate between 0 and 100."))
        if _errors_of(errors, where):
            continue
        assert quantity is not None and unit_price is not None and rate is not None
        quantity, unit_price = (
            quantity.quantize(Decimal("0.001")),
            unit_price.quantize(Decimal("0.0001")),
        )
        discount, rate = discount.quantize(Decimal("0.01")), rate.quantize(Decimal("0.01"))
        built.append(
            DocumentLine(
                position=index,
                product=product,
                description=description,
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                tax_rate=rate,
                price_source=source,
                amount=line_amount(quantity, unit_price, discount),
            )
        )
    return built, errors


def _errors_of(errors: Mapping[str, list[str]], where: str) -> list[str]:
    return [key for key in errors if key.startswith(where + ".")]


def line_as_dict(line: DocumentLine) -> dict[str, Any]:
    return {
        "product": line.product_id,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount_percent": line.discount_percent,
        "tax_rate": line.tax_rate,
        "price_source": line.price_source,
    }


# --- Documents --------------------------------------------------------------------------------


def _clean_fields(
    data: Mapping[str, Any], *, customer: Customer, errors: dict[str, list[str]]
) -> dict[str, Any]:
    fields = {k: v for k, v in data.items() if k in DOCUMENT_FIELDS}
    for name in ("issue_date", "valid_until", "due_date"):
        value = fields.get(name)
        if value is not None and not isinstance(value, datetime.date):
            errors[name] = [_("Enter a valid date.")]
    reference = str(fields.get("customer_reference") or "").strip()
    if len(reference) > 60:
        errors["customer_reference"] = [_("This text is too long.")]
    fields["customer_reference"] = reference
    fields["notes"] = str(fields.get("notes") or "").strip()
    owner = fields.get("owner")
    if owner is not None and (
        not isinstance(owner, User) or not owner.is_active or owner.role == Role.READ_ONLY
    ):
        errors["owner"] = [_("This user cannot be given sales documents.")]
    return fields


def _refuse_inactive(customer: Customer) -> None:
    if not may_get_new_work(customer):
        message = _("Only active customers get new quotes, orders and invoices.")
        raise SalesInvalid({"customer": [message]})


def _save_lines(document: SalesDocument, lines: list[DocumentLine]) -> None:
    for line in lines:
        line.document = document
    DocumentLine.objects.bulk_create(lines)
    totals = compute_totals((line.amount, line.tax_rate) for line in lines)
    document.subtotal, document.tax_total, document.total = (
        totals.subtotal,
        totals.tax_total,
        totals.total,
    )
    document.save(update_fields=["subtotal", "tax_total", "total", "updated_at"])


def _audit(document: SalesDocument, by: User, action: str, changes: dict[str, Any]) -> None:
    """The document's event in the history."""
    audit.record(
        action=action,
        object_type="sales_document",
        object_id=document.pk,
        label=document.code,
        customer_id=document.customer_id,
        by=by,
        changes=changes,
    )


def _timeline(document: SalesDocument, by: User, text: str, **extra: Any) -> None:
    """The document's line in the customer's timeline."""
    add_entry(
        document.customer_id,
        EntryKind.SALE,
        by=by,
        data={
            "text": text,
            "document": document.pk,
            "type": document.type,
            "code": document.code,
            "state": document.state,
            **extra,
        },
    )


def _what(doc_type: str, event: str) -> str:
    labels: dict[tuple[str, str], str] = {
        (DocumentType.QUOTE, "create"): _("Quote created"),
        (DocumentType.ORDER, "create"): _("Order created"),
        (DocumentType.INVOICE, "create"): _("Invoice issued"),
    }
    return labels.get((doc_type, event), event)


def _after_invoice(document: SalesDocument) -> None:
    if document.type == DocumentType.INVOICE:
        from cartera.sales.activity import recompute_activity

        customer_id = document.customer_id
        transaction.on_commit(
            lambda: recompute_activity(timezone.localdate(), customer_ids=[customer_id])
        )


@transaction.atomic
def create_document(
    *,
    customer: Customer,
    doc_type: str,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    by: User,
    source: SalesDocument | None = None,
) -> SalesDocument:
    """A new quote, order or invoice for an active customer, numbered in its series."""
    customer = writable_customer(customer, by)
    if doc_type not in DocumentType.values:
        raise SalesInvalid({"type": [_("Select a valid choice.")]})
    _refuse_inactive(customer)
    errors: dict[str, list[str]] = {}
    fields = _clean_fields(data, customer=customer, errors=errors)
    built, line_errors = clean_lines(lines, customer=customer)
    errors.update(line_errors)
    if errors:
        raise SalesInvalid(errors)
    issue_date = fields.pop("issue_date", None) or timezone.localdate()
    owner = fields.pop("owner", None) or customer.owner
    if doc_type == DocumentType.INVOICE and not fields.get("due_date"):
        terms = customer.effective_payment_terms()
        if terms is not None:
            fields["due_date"] = issue_date + datetime.timedelta(days=terms)
    company = Company.load()
    customer = Customer.objects.prefetch_related("addresses").get(pk=customer.pk)
    number = take_number(doc_type, issue_date.year)
    document = SalesDocument.objects.create(
        type=doc_type,
        year=issue_date.year,
        number=number,
        code=format_code(doc_type, issue_date.year, number),
        customer=customer,
        owner=owner,
        issue_date=issue_date,
        currency=customer.currency or company.default_currency,
        source=source,
        fiscal={"company": company_fiscal(company), "customer": customer_fiscal(customer)},
        created_by=by,
        **fields,
    )
    _save_lines(document, built)
    _audit(document, by, Action.CREATE, {"total": [None, str(document.total)]})
    total = number_format(document.total, decimal_pos=2, use_l10n=True, force_grouping=True)
    what = _what(doc_type, "create")
    _timeline(
        document, by, f"{what} {document.code} · {total} {document.currency}",
        total=str(document.total),
    )  # fmt: skip
    _after_invoice(document)
    return document


def _lock(document: SalesDocument, by: User) -> SalesDocument:
    writable_customer(document.customer, by)
    return SalesDocument.objects.select_for_update().get(pk=document.pk)


@transaction.atomic
def update_document(
    *,
    document: SalesDocument,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None,
    by: User,
) -> SalesDocument:
    """Change a draft's dates, reference, notes and (when given) its lines."""
    document = _lock(document, by)
    if not document.is_editable:
        raise SalesInvalid({"state": [_("Only drafts can be changed.")]})
    customer = writable_customer(document.customer, by)
    errors: dict[str, list[str]] = {}
    fields = _clean_fields(data, customer=customer, errors=errors)
    built: list[DocumentLine] = []
    if lines is not None:
        built, line_errors = clean_lines(lines, customer=customer)
        errors.update(line_errors)
    if "issue_date" in fields and fields["issue_date"] is None:
        errors["issue_date"] = [_("This field is required.")]
    elif fields.get("issue_date") and fields["issue_date"].year != document.year:
        errors["issue_date"] = [_("The date must stay in the year of the document's number.")]
    if errors:
        raise SalesInvalid(errors)
    before = audit.snapshot(document, [*fields, "total"])
    for name, value in fields.items():
        if name == "owner" and value is None:
            continue
        setattr(document, name, value)
    document.save()
    if lines is not None:
        document.lines.all().delete()
        _save_lines(document, built)
    changes = audit.diff(before, audit.snapshot(document, [*fields, "total"]))
    if changes:
        _audit(document, by, Action.UPDATE, changes)
    _after_invoice(document)
    return document


@transaction.atomic
def change_state(*, document: SalesDocument, to: str, by: User) -> SalesDocument:
    """Move a document along its type's allowed transitions."""
    document = _lock(document, by)
    if to not in document.next_states():
        raise SalesInvalid({"state": [_("A document cannot go from this state to that one.")]})
    old = document.state
    document.state = to
    document.save(update_fields=["state", "updated_at"])
    _audit(document, by, Action.UPDATE, {"state": [old, to]})
    _timeline(
        document, by, f"{document.code}: {DocumentState(old).label} → {DocumentState(to).label}"
    )
    _after_invoice(document)
    return document


@transaction.atomic
def convert_document(
    *, document: SalesDocument, to_type: str, by: User, data: Mapping[str, Any] | None = None
) -> SalesDocument:
    """An order from a quote, or an invoice from an order, with the same lines.

    The quote becomes accepted and the order invoiced; their prices are kept as they were.
    """
    document = _lock(document, by)
    made_from = {str(k): str(v) for k, v in MADE_FROM.items()}
    if made_from.get(to_type) != document.type:
        raise SalesInvalid({"type": [_("This document cannot be turned into that one.")]})
    allowed = {
        DocumentType.QUOTE: (DocumentState.DRAFT, DocumentState.SENT, DocumentState.ACCEPTED),
        DocumentType.ORDER: (DocumentState.DRAFT, DocumentState.CONFIRMED),
    }[DocumentType(document.type)]
    if document.state not in allowed or document.derived.exclude(state="cancelled").exists():
        raise SalesInvalid({"state": [_("This document was already turned or is closed.")]})
    lines = [line_as_dict(line) for line in document.lines.all()]
    fields: dict[str, Any] = {
        "customer_reference": document.customer_reference,
        "notes": document.notes,
    }
    fields.update(data or {})
    fields.setdefault("owner", document.owner)
    # Prices stay as agreed: each line keeps its unit price and discount.
    new = create_document(
        customer=document.customer,
        doc_type=to_type,
        data=fields,
        lines=lines,
        by=by,
        source=document,
    )
    done = DocumentState.ACCEPTED if document.type == DocumentType.QUOTE else DocumentState.INVOICED
    if document.state != done:
        SalesDocument.objects.filter(pk=document.pk).update(state=done)
        _audit(document, by, Action.UPDATE, {"state": [document.state, done]})
    document.refresh_from_db()
    return new
