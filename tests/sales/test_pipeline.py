"""Opportunities: created, moved, won (a prospect becomes a client), lost; weighted value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cartera.customers.models import Stage
from cartera.customers.validation import CustomerInvalid
from cartera.sales import opportunities as service
from cartera.sales.models import Opportunity, Outcome
from cartera.sales.services import SalesInvalid
from tests.conftest import make_customer, make_lead
from tests.sales.conftest import make_document

pytestmark = pytest.mark.django_db


def _new(customer, by, stage, amount: str = "1000", **extra):
    data = {"title": "Renovación", "amount": Decimal(amount), "stage": stage, **extra}
    return service.create_opportunity(customer=customer, data=data, by=by)


def test_an_opportunity_belongs_to_the_customer_owner_by_default(owner, teammate, stages):
    opportunity = _new(make_customer(owner), teammate, stages[0])
    assert opportunity.owner == owner
    assert opportunity.outcome == Outcome.OPEN
    assert opportunity.currency == "EUR"


def test_bad_input_names_the_fields(owner, stages):
    with pytest.raises(SalesInvalid) as error:
        service.create_opportunity(customer=make_customer(owner),
                                   data={"title": "", "amount": Decimal(-1)}, by=owner)  # fmt: skip
    assert set(error.value.messages_by_field) == {"title", "amount", "stage"}
    assert Opportunity.objects.count() == 0


def test_winning_makes_a_prospect_a_client(owner, stages):
    # given a prospect with invoiceable data and a quote
    customer = make_customer(owner, stage="prospect")
    quote = make_document(customer, owner)
    opportunity = _new(customer, owner, stages[0])

    # when the opportunity is won with the quote
    service.win_opportunity(opportunity=opportunity, by=owner, document=quote)

    # then it is closed as won, and the customer is a client
    opportunity.refresh_from_db()
    customer.refresh_from_db()
    assert (opportunity.outcome, opportunity.won_document) == (Outcome.WON, quote)
    assert customer.stage == Stage.CLIENT
    with pytest.raises(SalesInvalid):
        service.lose_opportunity(opportunity=opportunity, by=owner, reason="other")


def test_a_lead_without_fiscal_data_cannot_be_won_as_client(owner, stages):
    lead = make_lead(owner)
    opportunity = _new(lead, owner, stages[0])
    with pytest.raises(CustomerInvalid) as error:
        service.win_opportunity(opportunity=opportunity, by=owner)
    assert "tax_id" in error.value.messages_by_field
    opportunity.refresh_from_db()
    assert opportunity.outcome == Outcome.OPEN


def test_losing_to_a_competitor_names_it(owner, stages):
    opportunity = _new(make_customer(owner), owner, stages[0])
    with pytest.raises(SalesInvalid) as error:
        service.lose_opportunity(opportunity=opportunity, by=owner, reason="competitor")
    assert list(error.value.messages_by_field) == ["competitor"]
    service.lose_opportunity(opportunity=opportunity, by=owner, reason="competitor",
                             competitor="Cafés del Sur")  # fmt: skip
    opportunity.refresh_from_db()
    assert (opportunity.outcome, opportunity.competitor) == (Outcome.LOST, "Cafés del Sur")


def test_weighted_value_sums_open_amounts_by_probability(owner, stages):
    customer = make_customer(owner)
    _new(customer, owner, stages[0], "1000")  # 10 %
    _new(customer, owner, stages[1], "333.33")  # 60 %
    lost = _new(customer, owner, stages[1], "5000")
    service.lose_opportunity(opportunity=lost, by=owner, reason="other")
    expected = Decimal(1000 * stages[0].probability + Decimal("333.33") * stages[1].probability)
    assert service.weighted_value(Opportunity.objects.all()) == {
        "EUR": (expected / 100).quantize(Decimal("0.01"))
    }


def test_a_closed_opportunity_does_not_move(owner, stages):
    opportunity = _new(make_customer(owner), owner, stages[0])
    service.lose_opportunity(opportunity=opportunity, by=owner, reason="other")
    with pytest.raises(SalesInvalid):
        service.move_opportunity(opportunity=opportunity, stage=stages[1], by=owner)
