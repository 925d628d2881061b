"""Sales documents: quotes, orders and invoices, their lines and their states."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Customer, among
from cartera.sales.models.catalogue import Product

ZERO = Decimal("0")


class DocumentType(models.TextChoices):
    QUOTE = "quote", _("Quote")
    ORDER = "order", _("Order")
    INVOICE = "invoice", _("Invoice")


# The letters of each type's numbering series: P-2026-00001, PED-..., F-...
PREFIXES = {DocumentType.QUOTE: "P", DocumentType.ORDER: "PED", DocumentType.INVOICE: "F"}


class DocumentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CONFIRMED = "confirmed", _("Confirmed")
    INVOICED = "invoiced", _("Invoiced")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


S = DocumentState
# Which state each type of document may move to from each state. Conversions move a quote
# to accepted and an order to invoiced by themselves.
TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    DocumentType.QUOTE: {
        S.DRAFT: (S.SENT, S.ACCEPTED, S.REJECTED, S.CANCELLED),
        S.SENT: (S.ACCEPTED, S.REJECTED, S.CANCELLED),
        S.ACCEPTED: (S.CANCELLED,),
        S.REJECTED: (S.DRAFT,),
    },
    DocumentType.ORDER: {
        S.DRAFT: (S.CONFIRMED, S.CANCELLED),
        S.CONFIRMED: (S.INVOICED, S.CANCELLED),
    },
    DocumentType.INVOICE: {
        S.DRAFT: (S.SENT, S.PAID, S.CANCELLED),
        S.SENT: (S.PAID, S.CANCELLED),
        S.PAID: (S.SENT,),  # a payment recorded by mistake
    },
}
# The states a type of document can be in (the first one is where it starts).
STATES: dict[str, tuple[str, ...]] = {
    DocumentType.QUOTE: (S.DRAFT, S.SENT, S.ACCEPTED, S.REJECTED, S.CANCELLED),
    DocumentType.ORDER: (S.DRAFT, S.CONFIRMED, S.INVOICED, S.CANCELLED),
    DocumentType.INVOICE: (S.DRAFT, S.SENT, S.PAID, S.CANCELLED),
}
# Documents that are still to be decided or delivered (the ficha's "open" quotes and orders).
OPEN_STATES = (S.DRAFT, S.SENT, S.CONFIRMED)
# Only lines of a draft can be changed.
EDITABLE_STATES = (S.DRAFT,)


class SalesDocumentQuerySet(models.QuerySet["SalesDocument"]):
    def visible_to(self, user: Any) -> SalesDocumentQuerySet:
        """Documents of the customers the user may see: every read starts here."""
        return self.filter(among(Customer.objects.visible_to(user)))

    def editable_by(self, user: Any) -> SalesDocumentQuerySet:
        return self.filter(among(Customer.objects.editable_by(user)))

    def invoices(self) -> SalesDocumentQuerySet:
        """Invoices that count as purchases (not cancelled)."""
        return self.filter(type=DocumentType.INVOICE).exclude(state=S.CANCELLED)


class SalesDocument(models.Model):
    """A quote, order or invoice of one customer, numbered in its type's yearly series.

    Totals are kept on the row (recomputed from the lines by the services) so that lists,
    the purchase history and reports read them without summing lines. ``fiscal`` is the
    company's and the customer's fiscal data as they were when the document was made.
    """

    type = models.CharField(_("type"), max_length=10, choices=DocumentType.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    code = models.CharField(_("number"), max_length=24, unique=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,  # fiscal documents are kept
        related_name="sales_documents",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="sales_documents",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=DocumentState.choices, default=DocumentState.DRAFT
    )
    issue_date = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    customer_reference = models.CharField(_("customer's purchase order"), max_length=60, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    notes = models.TextField(_("notes"), blank=True)
    source = models.ForeignKey(
        "self",
        verbose_name=_("made from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived",
    )
    subtotal = models.DecimalField(_("taxable base"), max_digits=16, decimal_places=2, default=ZERO)
    tax_total = models.DecimalField(_("taxes"), max_digits=16, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=ZERO)
    fiscal = models.JSONField(_("fiscal data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = SalesDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("sales document")
        verbose_name_plural = _("sales documents")
        constraints = [
            models.UniqueConstraint(
                fields=["type", "year", "number"], name="sales_document_number_once"
            )
        ]
        indexes = [
            # Purchase activity and history: a customer's invoices by date.
            models.Index(
                fields=["customer", "type", "issue_date", "state"], name="sales_doc_customer"
            ),
            models.Index(fields=["type", "issue_date"], name="sales_doc_type_date"),
            models.Index(fields=["type", "state", "issue_date"], name="sales_doc_type_state"),
            models.Index(fields=["owner", "type", "issue_date"], name="sales_doc_owner"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def next_states(self) -> tuple[str, ...]:
        return TRANSITIONS.get(self.type, {}).get(self.state, ())


class PriceSource(models.TextChoices):
    LIST = "list", _("List price")
    GROUP = "group", _("Group discount")
    SPECIAL = "special", _("Special price")
    MANUAL = "manual", _("Entered by hand")


class DocumentLine(models.Model):
    """One line: quantity × unit price less the discount, rounded to cents, at a tax rate."""

    document = models.ForeignKey(
        SalesDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=ZERO
    )
    tax_rate = models.DecimalField(_("tax rate %"), max_digits=5, decimal_places=2)
    price_source = models.CharField(
        _("price"), max_length=10, choices=PriceSource.choices, default=PriceSource.MANUAL
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["document", "position", "id"]
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        indexes = [models.Index(fields=["product", "document"], name="sales_line_product")]

    def __str__(self) -> str:
        return self.description
