"""Sales fixtures: a catalogue, a priced customer group, and helpers to make documents."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from cartera.accounts.models import User
from cartera.core.models import Company
from cartera.customers.models import Customer, CustomerGroup
from cartera.sales import services
from cartera.sales.models import GroupPrice, PipelineStage, Product, SalesDocument


def make_product(code: str = "P1", price: str = "100", tax: str = "21", **extra: Any) -> Product:
    return Product.objects.create(
        code=code, name=extra.pop("name", f"Producto {code}"), price=Decimal(price),
        tax_rate=Decimal(tax), **extra,
    )  # fmt: skip


def make_document(
    customer: Customer,
    by: User,
    doc_type: str = "quote",
    lines: list[dict[str, Any]] | None = None,
    **data: Any,
) -> SalesDocument:
    return services.create_document(
        customer=customer,
        doc_type=doc_type,
        data=data,
        lines=lines or [{"description": "Servicio", "quantity": "1", "unit_price": "100",
                         "tax_rate": "21"}],
        by=by,
    )  # fmt: skip


def make_invoice(customer: Customer, by: User, on: datetime.date, amount: str = "100") -> Any:
    return make_document(
        customer, by, "invoice",
        lines=[{"description": "Venta", "quantity": "1", "unit_price": amount, "tax_rate": "21"}],
        issue_date=on,
    )  # fmt: skip


@pytest.fixture
def company(db: Any) -> Company:
    company = Company.load()
    company.legal_name = "Distribuciones Ibéricas SL"
    company.trade_name = "Ibérica"
    company.tax_id = "B12345674"
    company.street = "Gran Vía 1"
    company.postal_code = "28013"
    company.municipality = "Madrid"
    company.save()
    return company


@pytest.fixture
def product(db: Any) -> Product:
    return make_product("CAF-1", "12.50", "10", name="Café en grano 1 kg")


@pytest.fixture
def group(db: Any) -> CustomerGroup:
    return CustomerGroup.objects.create(name="Mayoristas", discount_percent=Decimal("10"))


@pytest.fixture
def special(group: CustomerGroup, product: Product) -> GroupPrice:
    return GroupPrice.objects.create(group=group, product=product, price=Decimal("11"))


@pytest.fixture
def stages(db: Any) -> list[PipelineStage]:
    """The seeded stages (transactional tests empty the table: put them back)."""
    if not PipelineStage.objects.exists():
        for i, (name, p) in enumerate([("Cualificación", 10), ("Propuesta", 60)], start=1):
            PipelineStage.objects.create(name=name, position=i * 10, probability=p)
    return list(PipelineStage.objects.all())
