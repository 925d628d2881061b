"""A small portfolio whose every figure is known, in two teams, and its snapshot."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from cartera.accounts.models import User
from cartera.activities.services import change_stage
from cartera.core.models import Company
from cartera.customers.models import Customer
from cartera.insights.snapshot import month_start, refresh_figures
from cartera.sales import opportunities
from cartera.sales.activity import recompute_activity
from cartera.sales.models import PipelineStage
from tests.conftest import make_customer, make_lead, valid_cif
from tests.sales.conftest import make_invoice


@dataclass
class Portfolio:
    customers: dict[str, Customer]
    today: datetime.date


def _client(by: User, name: str, number: int, **extra: Any) -> Customer:
    return make_customer(by, legal_name=name, tax_id=valid_cif(number), **extra)


@pytest.fixture
def portfolio(
    team_visibility: Company, owner: User, teammate: User, outsider: User, manager: User
) -> Portfolio:
    """Team Norte (owner, teammate) and team Sur (outsider), in team visibility.

    owner:    A client, 3 invoices of 100 + 1 of 500 this month (net 800); B client, one
              invoice of 200 two months ago; C lead; D lost to "Rival SA" (went to a
              competitor); E former, ceased to exist. Opportunity of 1000 in the first stage.
    teammate: F client in Barcelona, invoice of 100 this month; G lost to "  rival   sa "
              (the same competitor, spelt otherwise).
    outsider: H client, invoice of 9000 this month; I lost, non-payment; opportunity of 5000.
    """
    company = Company.load()
    company.legal_name = "Distribuciones Ibéricas SL"
    company.tax_id = "B12345674"
    company.street = "Gran Vía 1"
    company.postal_code = "28013"
    company.municipality = "Madrid"
    company.save()
    today = timezone.localdate()
    c: dict[str, Customer] = {}
    c["A"] = _client(owner, "Alfa SL", 1)
    c["B"] = _client(owner, "Beta SL", 2)
    c["C"] = make_lead(owner, "Gamma lead")
    c["D"] = _client(owner, "Delta SL", 4, stage="prospect")
    c["E"] = _client(owner, "Épsilon SL", 5)
    c["F"] = _client(
        teammate, "Fi SL", 6,
        addresses=[{"type": "fiscal", "street": "Diagonal", "postal_code": "08001",
                    "municipality": "Barcelona", "region": "ES-B", "country": "ES"}],
    )  # fmt: skip
    c["G"] = _client(teammate, "Gi SL", 7, stage="prospect")
    c["H"] = _client(outsider, "Hache SL", 8)
    c["I"] = _client(outsider, "Iota SL", 9, stage="prospect")
    for amount in ("100", "100", "100", "500"):
        make_invoice(c["A"], owner, today, amount)
    make_invoice(c["B"], owner, month_start(today, 2), "200")
    make_invoice(c["F"], teammate, today, "100")
    make_invoice(c["H"], outsider, today, "9000")
    change_stage(customer=c["D"], to="lost", by=owner, loss_reason="competitor",
                 competitor="Rival SA")  # fmt: skip
    change_stage(customer=c["E"], to="former", by=owner, loss_reason="ceased")
    change_stage(customer=c["G"], to="lost", by=teammate, loss_reason="competitor",
                 competitor="  rival   sa ")  # fmt: skip
    change_stage(customer=c["I"], to="lost", by=outsider, loss_reason="non_payment")
    # (browser tests empty the tables the migrations seeded)
    first = PipelineStage.objects.order_by("position").first() or PipelineStage.objects.create(
        name="Cualificación", position=10, probability=10
    )
    opportunities.create_opportunity(
        customer=c["A"], data={"title": "Renovación", "amount": Decimal("1000"), "stage": first},
        by=owner,
    )  # fmt: skip
    opportunities.create_opportunity(
        customer=c["H"], data={"title": "Ampliación", "amount": Decimal("5000"), "stage": first},
        by=outsider,
    )  # fmt: skip
    recompute_activity(today)
    refresh_figures(today)
    return Portfolio(customers=c, today=today)
