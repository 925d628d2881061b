"""Every list page runs the same number of SQL queries whatever its length."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import User
from cartera.customers import services
from cartera.privacy import services as privacy
from tests.conftest import client_for, make_customer, make_lead, make_user

pytestmark = pytest.mark.django_db


def _queries(user: User, url: str) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow_users(admin: User, n: int) -> None:
    start = User.objects.count()
    for i in range(start, start + n):
        make_user(f"comercial{i}")


def _grow_requests(admin: User, n: int) -> None:
    for i in range(n):
        customer = make_lead(admin, f"Solicitante {i}")
        privacy.open_request(
            customer=customer, by=admin, kind="access", received_on=datetime.date(2026, 1, 1)
        )


@pytest.mark.parametrize(
    ("url", "grow"),
    [
        ("/accounts/users/", _grow_users),
        ("/privacy/requests/", _grow_requests),
    ],
)
def test_admin_lists_have_a_fixed_query_count(
    admin_user: User, url: str, grow: Callable[[User, int], None]
) -> None:
    grow(admin_user, 2)
    few = _queries(admin_user, url)
    grow(admin_user, 8)
    assert _queries(admin_user, url) == few


def test_history_page_has_a_fixed_query_count(admin_user: User) -> None:
    customer = make_customer(admin_user)
    url = f"/customers/{customer.pk}/history/"
    few = _queries(admin_user, url)
    for i in range(10):
        customer = services.update_customer(
            customer=customer, by=admin_user, data={"trade_name": f"Nombre {i}"}
        )
    assert _queries(admin_user, url) == few
