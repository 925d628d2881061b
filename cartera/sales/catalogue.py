"""Use cases of the catalogue: products and their special prices per customer group."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.customers.models import CustomerGroup
from cartera.sales.models import GroupPrice, Product, ProductKind
from cartera.sales.services import SalesInvalid

FIELDS = ("code", "name", "kind", "unit", "price", "tax_rate", "is_active")
LIMIT = Decimal("1e10")


def may_edit_catalogue(user: Any) -> bool:
    """Managers and administrators keep the catalogue."""
    return bool(getattr(user, "sees_whole_portfolio", False)) and bool(user.can_write)


def _clean(data: Mapping[str, Any], *, product: Product | None) -> dict[str, Any]:
    fields = {k: v for k, v in data.items() if k in FIELDS}
    errors: dict[str, list[str]] = {}

    def need(name: str) -> bool:
        return product is None or name in fields

    for name, size in (("code", 40), ("name", 200), ("unit", 20)):
        if need(name):
            fields[name] = str(fields.get(name) or "").strip()
            if not fields[name] and name != "unit":
                errors[name] = [_("This field is required.")]
            elif len(fields[name]) > size:
                errors[name] = [_("This text is too long.")]
    if need("kind") and fields.get("kind", ProductKind.PRODUCT) not in ProductKind.values:
        errors["kind"] = [_("Select a valid choice.")]
    if need("price"):
        price = fields.get("price")
        if not isinstance(price, Decimal) or not price.is_finite() or not 0 <= price < LIMIT:
            errors["price"] = [_("Enter a price of zero or more.")]
    if need("tax_rate"):
        rate = fields.get("tax_rate", Decimal("21"))
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate <= 100:
            errors["tax_rate"] = [_("Enter a tax rate between 0 and 100.")]
        fields["tax_rate"] = rate
    code = fields.get("code")
    if code and "code" not in errors:
        taken = Product.objects.filter(code__iexact=code)
        if product is not None:
            taken = taken.exclude(pk=product.pk)
        if taken.exists():
            errors["code"] = [_("Another product has this code.")]
    if errors:
        raise SalesInvalid(errors)
    return fields


def _set_special_prices(
    product: Product, prices: Mapping[int, Decimal | None] | None
) -> dict[str, Any]:
    if prices is None:
        return {}
    errors: dict[str, list[str]] = {}
    groups = CustomerGroup.objects.in_bulk(list(prices))
    for pk, price in prices.items():
        if pk not in groups:
            errors[f"special_prices.{pk}"] = [_("This customer group does not exist.")]
        elif price is not None and (not price.is_finite() or not 0 <= price < LIMIT):
            errors[f"special_prices.{pk}"] = [_("Enter a price of zero or more.")]
    if errors:
        raise SalesInvalid(errors)
    before = dict(product.group_prices.values_list("group_id", "price"))
    keep = {pk: price for pk, price in prices.items() if price is not None}
    product.group_prices.filter(group_id__in=[pk for pk in prices if pk not in keep]).delete()
    for pk, price in keep.items():
        GroupPrice.objects.update_or_create(product=product, group_id=pk, defaults={"price": price})
    return {
        f"special_price.{groups[pk].name}": [audit.plain(before.get(pk)), audit.plain(prices[pk])]
        for pk in prices
        if before.get(pk) != prices[pk]
    }


@transaction.atomic
def save_product(
    *,
    product: Product | None,
    data: Mapping[str, Any],
    by: User,
    special_prices: Mapping[int, Decimal | None] | None = None,
) -> Product:
    """Create (``product=None``) or change a product and, when given, its special prices
    (group id → price, ``None`` removes the group's price)."""
    if not may_edit_catalogue(by):
        raise PermissionDenied
    fields = _clean(data, product=product)
    before = audit.snapshot(product, FIELDS) if product is not None else {}
    if product is None:
        product = Product.objects.create(**fields)
    else:
        product = Product.objects.select_for_update().get(pk=product.pk)
        for name, value in fields.items():
            setattr(product, name, value)
        product.save()
    changes = audit.diff(before, audit.snapshot(product, FIELDS))
    changes.update(_set_special_prices(product, special_prices))
    if changes:
        audit.record(
            action=Action.CREATE if not before else Action.UPDATE,
            object_type="product",
            object_id=product.pk,
            label=product.code,
            by=by,
            changes=changes,
        )
    return product
