"""Prices and amounts: which price a customer gets, and how a document adds up.

Money is ``Decimal`` throughout and rounded half-up to cents in two places only:

- each line: ``quantity × unit price × (1 − discount/100)``, rounded to cents;
- each tax rate: the rate's tax is ``sum of its lines' amounts × rate/100``, rounded to cents.

The document's taxable base is the sum of the rounded lines, its tax the sum of the rounded
taxes per rate, and its total their sum: the figures printed always add up exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cartera.sales.models import GroupPrice, PriceSource, Product

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to two decimals (0.005 → 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ResolvedPrice:
    """The price a customer gets for a product, and why."""

    unit_price: Decimal
    discount_percent: Decimal
    source: str  # a PriceSource

    @property
    def net_unit_price(self) -> Decimal:
        return self.unit_price * (HUNDRED - self.discount_percent) / HUNDRED


def resolve_price(
    product: Product, customer: Any, *, specials: Mapping[int, Decimal] | None = None
) -> ResolvedPrice:
    """The one rule for prices: the group's special price, else the group's discount on the
    list price, else the list price.

    ``specials`` (product id → special price, from ``special_prices``) may be passed when the
    caller already read the group's special prices, one query for many lines.
    """
    group_id = getattr(customer, "group_id", None)
    if group_id is None:
        return ResolvedPrice(product.price, ZERO, PriceSource.LIST)
    if specials is None:
        specials = special_prices(customer, [product.pk])
    special = specials.get(product.pk)
    if special is not None:
        return ResolvedPrice(special, ZERO, PriceSource.SPECIAL)
    discount = customer.group.discount_percent if customer.group else ZERO
    if discount:
        return ResolvedPrice(product.price, discount, PriceSource.GROUP)
    return ResolvedPrice(product.price, ZERO, PriceSource.LIST)


def special_prices(customer: Any, product_ids: Iterable[int]) -> dict[int, Decimal]:
    """The customer's group's special prices for these products, in one query."""
    group_id = getattr(customer, "group_id", None)
    ids = [pk for pk in product_ids if pk]
    if group_id is None or not ids:
        return {}
    rows = GroupPrice.objects.filter(group_id=group_id, product_id__in=ids)
    return dict(rows.values_list("product_id", "price"))


def line_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """A line's amount before tax, rounded half-up to cents."""
    return to_cents(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)


@dataclass
class TaxBreakdown:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass
class Totals:
    subtotal: Decimal = ZERO
    tax_total: Decimal = ZERO
    total: Decimal = ZERO
    by_rate: list[TaxBreakdown] = field(default_factory=list)


def compute_totals(lines: Iterable[tuple[Decimal, Decimal]]) -> Totals:
    """Totals of (amount, tax rate) pairs, the amounts already rounded per line."""
    bases: dict[Decimal, Decimal] = {}
    for amount, rate in lines:
        key = rate.normalize() if rate else ZERO
        bases[key] = bases.get(key, ZERO) + amount
    by_rate = [
        TaxBreakdown(rate=rate, base=base, tax=to_cents(base * rate / HUNDRED))
        for rate, base in sorted(bases.items(), reverse=True)
    ]
    subtotal = sum((b.base for b in by_rate), ZERO)
    tax_total = sum((b.tax for b in by_rate), ZERO)
    return Totals(
        subtotal=to_cents(subtotal),
        tax_total=to_cents(tax_total),
        total=to_cents(subtotal + tax_total),
        by_rate=by_rate,
    )
