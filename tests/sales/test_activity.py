"""Purchase activity from invoices: exact statuses at the thresholds, per group too."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from cartera.activities.models import Reminder, ReminderKind
from cartera.customers.models import Customer, CustomerGroup, PurchaseActivity
from cartera.sales import services
from cartera.sales.activity import recompute_activity
from tests.conftest import make_customer, valid_cif
from tests.sales.conftest import make_invoice

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 31)


def _customer(owner, n: int, **extra) -> Customer:
    return make_customer(owner, legal_name=f"Cliente {n} SL", tax_id=valid_cif(n), **extra)


def _activity(*customers: Customer) -> list[str]:
    return [Customer.objects.get(pk=c.pk).activity for c in customers]


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "active"),
        (29, "active"),
        (30, "pre_inactive"),  # the 30th day without buying is pre-inactive
        (44, "pre_inactive"),
        (45, "inactive"),  # and the 45th inactive
        (400, "inactive"),
        (-3, "active"),  # an invoice dated ahead
    ],
)
def test_status_at_the_default_thresholds(owner, days, expected) -> None:
    customer = _customer(owner, 1)
    make_invoice(customer, owner, TODAY - datetime.timedelta(days=days))
    recompute_activity(TODAY)
    assert _activity(customer) == [expected]


def test_a_customer_without_invoices_never_bought(owner) -> None:
    customer = _customer(owner, 1)
    PurchaseActivity.objects.create(customer=customer, activity="active")
    assert recompute_activity(TODAY)["never"] == 1
    assert _activity(customer) == ["never"]
    assert not PurchaseActivity.objects.filter(customer=customer).exists()


def test_the_last_invoice_counts_and_cancelled_ones_do_not(owner) -> None:
    customer = _customer(owner, 1)
    make_invoice(customer, owner, TODAY - datetime.timedelta(days=100))
    recent = make_invoice(customer, owner, TODAY - datetime.timedelta(days=2))
    recompute_activity(TODAY)
    assert _activity(customer) == ["active"]
    services.change_state(document=recent, to="cancelled", by=owner)
    recompute_activity(TODAY)
    assert _activity(customer) == ["inactive"]


def test_quotes_and_orders_are_not_purchases(owner) -> None:
    from tests.sales.conftest import make_document

    customer = _customer(owner, 1)
    make_document(customer, owner, "quote")
    make_document(customer, owner, "order")
    recompute_activity(TODAY)
    assert _activity(customer) == ["never"]


@override_settings(CARTERA_PRE_INACTIVE_DAYS=10, CARTERA_INACTIVE_DAYS=20)
def test_thresholds_come_from_the_settings(owner) -> None:
    a, b, c = (_customer(owner, n) for n in (1, 2, 3))
    for customer, days in ((a, 9), (b, 10), (c, 20)):
        make_invoice(customer, owner, TODAY - datetime.timedelta(days=days))
    recompute_activity(TODAY)
    assert _activity(a, b, c) == ["active", "pre_inactive", "inactive"]


def test_a_group_sets_its_own_thresholds(owner) -> None:
    # given a group that waits 60 / 90 days, one that only changes the first threshold,
    # and a customer of a group without thresholds
    slow = CustomerGroup.objects.create(name="Anuales", pre_inactive_days=60, inactive_days=90)
    half = CustomerGroup.objects.create(name="Medio", pre_inactive_days=40)
    late = CustomerGroup.objects.create(name="Tardío", pre_inactive_days=50)
    plain = CustomerGroup.objects.create(name="Normal", discount_percent=Decimal("5"))
    cases = [
        (slow, 59, "active"), (slow, 60, "pre_inactive"), (slow, 89, "pre_inactive"),
        (slow, 90, "inactive"), (half, 39, "active"), (half, 40, "pre_inactive"),
        (half, 45, "inactive"), (late, 49, "active"),
        (late, 50, "inactive"),  # the inactive threshold never comes before the other
        (plain, 30, "pre_inactive"), (plain, 45, "inactive"), (None, 45, "inactive"),
    ]  # fmt: skip
    customers = []
    for n, (group, days, _expected) in enumerate(cases, start=1):
        customer = _customer(owner, n, group=group)
        make_invoice(customer, owner, TODAY - datetime.timedelta(days=days))
        customers.append(customer)

    # when the job runs
    moved = recompute_activity(TODAY)

    # then each customer's status follows its group's thresholds
    assert _activity(*customers) == [expected for _g, _d, expected in cases]
    assert moved == {"active": 3, "pre_inactive": 4, "inactive": 5, "never": 0}


def test_becoming_pre_inactive_reminds_the_owner_once(owner) -> None:
    customer = _customer(owner, 1)
    make_invoice(customer, owner, TODAY - datetime.timedelta(days=31))
    recompute_activity(TODAY)
    recompute_activity(TODAY)  # already pre-inactive: nothing new
    reminder = Reminder.objects.get(kind=ReminderKind.PRE_INACTIVE)
    assert (reminder.user, reminder.customer_id, reminder.due_date) == (owner, customer.pk, TODAY)


def test_one_customer_can_be_recomputed_alone(owner) -> None:
    a, b = _customer(owner, 1), _customer(owner, 2)
    for customer in (a, b):
        make_invoice(customer, owner, TODAY - datetime.timedelta(days=50))
    recompute_activity(TODAY, customer_ids=[a.pk])
    assert _activity(a, b) == ["inactive", "never"]


def test_an_invoice_recomputes_its_customer(owner, django_capture_on_commit_callbacks) -> None:
    customer = _customer(owner, 1)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(customer, owner, datetime.date.today())
    assert _activity(customer) == ["active"]


def _recompute_statements(owner, customers: int) -> list[str]:
    """The statements of a first recompute over ``customers`` customers in every situation."""
    for n in range(Customer.objects.count() + 1, customers + 1):
        customer = _customer(owner, n)
        if n % 4:
            make_invoice(customer, owner, TODAY - datetime.timedelta(days=n * 4 % 60))
    PurchaseActivity.objects.all().delete()
    Reminder.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        recompute_activity(TODAY)
    return [q["sql"] for q in queries.captured_queries]


def test_the_job_is_set_based(owner) -> None:
    # given a portfolio in every situation, then one twice its size
    few = _recompute_statements(owner, 12)
    many = _recompute_statements(owner, 24)

    # the job runs the same statements whatever the number of customers (days since the last
    # invoice: 4n mod 60 for n = 1..24, none for every fourth)
    assert len(few) == len(many)
    written = Counter(
        match[1]
        for sql in many
        if (match := re.match(r"(?:UPDATE|INSERT INTO|DELETE FROM) (\S+)", sql))
    )
    assert written['"customers_purchaseactivity"'] == 2  # one delete, one upsert
    assert '"customers_customer"' not in written
    assert Counter(_activity(*Customer.objects.all())) == {
        "never": 6, "active": 12, "pre_inactive": 4, "inactive": 2,
    }  # fmt: skip


def test_moving_between_statuses_keeps_one_row_per_customer(owner) -> None:
    customer = _customer(owner, 1)
    make_invoice(customer, owner, TODAY - datetime.timedelta(days=10))
    assert recompute_activity(TODAY)["active"] == 1
    moved = recompute_activity(TODAY + datetime.timedelta(days=25))
    assert moved == {"active": 0, "pre_inactive": 1, "inactive": 0, "never": 0}
    assert list(PurchaseActivity.objects.values_list("customer_id", "activity")) == [
        (customer.pk, "pre_inactive")
    ]
    assert Customer.objects.with_activity("pre_inactive").get() == customer
    assert not Customer.objects.with_activity("never").exists()
