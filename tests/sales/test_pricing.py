"""Which price a customer gets, and how documents add up (Decimal, half-up to cents)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cartera.customers.models import CustomerGroup
from cartera.sales.models import GroupPrice, PriceSource, Product
from cartera.sales.pricing import compute_totals, line_amount, resolve_price
from tests.conftest import make_customer

D = Decimal


@pytest.mark.django_db
def test_a_customer_without_group_gets_the_list_price(owner, product: Product) -> None:
    customer = make_customer(owner)
    price = resolve_price(product, customer)
    assert (price.unit_price, price.discount_percent, price.source) == (
        D("12.5"),
        D("0"),
        PriceSource.LIST,
    )


@pytest.mark.django_db
def test_the_group_discount_applies_to_the_list_price(owner, product, group) -> None:
    customer = make_customer(owner, group=group)
    price = resolve_price(product, customer)
    assert price.source == PriceSource.GROUP
    assert (price.unit_price, price.discount_percent) == (D("12.5"), D("10"))
    assert price.net_unit_price == D("11.25")


@pytest.mark.django_db
def test_a_special_price_wins_over_the_group_discount(owner, product, group, special) -> None:
    customer = make_customer(owner, group=group)
    price = resolve_price(product, customer)
    assert (price.unit_price, price.discount_percent, price.source) == (
        D("11"),
        D("0"),
        PriceSource.SPECIAL,
    )


@pytest.mark.django_db
def test_special_prices_belong_to_their_group_only(owner, product, special) -> None:
    other = CustomerGroup.objects.create(name="Minoristas", discount_percent=D("0"))
    customer = make_customer(owner, group=other)
    assert resolve_price(product, customer).source == PriceSource.LIST
    assert GroupPrice.objects.count() == 1


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "expected"),
    [
        ("1", "0.005", "0", "0.01"),  # half-up, not banker's rounding
        ("1", "0.015", "0", "0.02"),
        ("1", "0.025", "0", "0.03"),
        ("3", "0.3333", "0", "1.00"),
        ("2.5", "19.99", "15", "42.48"),  # 42.47875
        ("1", "10", "100", "0.00"),
        ("0.001", "0.0001", "0", "0.00"),
    ],
)
def test_line_amounts_round_half_up_to_cents(quantity, price, discount, expected) -> None:
    assert line_amount(D(quantity), D(price), D(discount)) == D(expected)


def test_taxes_round_per_rate_on_the_sum_of_the_rounded_lines() -> None:
    # given three lines at 21 % whose taxes, rounded one by one, would add 0.03 more
    lines = [(D("0.05"), D("21")), (D("0.05"), D("21")), (D("0.05"), D("21")),
             (D("10.00"), D("10")), (D("7.77"), D("4"))]  # fmt: skip

    # when the document adds up
    totals = compute_totals(lines)

    # then each rate's tax is rounded once, on its base
    by_rate = {r.rate: (r.base, r.tax) for r in totals.by_rate}
    assert by_rate == {
        D("21"): (D("0.15"), D("0.03")),  # 0.0315 → 0.03 (per line it would be 3 × 0.01)
        D("10"): (D("10.00"), D("1.00")),
        D("4"): (D("7.77"), D("0.31")),  # 0.3108
    }
    assert totals.subtotal == D("17.92")
    assert totals.tax_total == D("1.34")
    assert totals.total == D("19.26")
    assert [r.rate for r in totals.by_rate] == [D("21"), D("10"), D("4")]


def test_no_lines_add_up_to_zero() -> None:
    totals = compute_totals([])
    assert (totals.subtotal, totals.tax_total, totals.total, totals.by_rate) == (0, 0, 0, [])
