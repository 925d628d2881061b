"""Shared fixtures: the three users every access test needs, and customer factories."""

from __future__ import annotations

import importlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test import Client

from cartera.accounts.models import ApiToken, Role, Team, User
from cartera.core.models import Company, VisibilityMode
from cartera.customers import services
from cartera.customers.models import Customer, FiscalType

PASSWORD = "una-clave-larga-2026"

# A valid Spanish CIF of a limited company (SL) and a valid DNI.
CIF_SL = "B12345674"
DNI = "12345678Z"


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Each test starts with an empty cache: rate-limit counts are keyed by ids that repeat."""
    cache.clear()


SEEDED = (
    "cartera.customers.migrations.0002_seed_lists",
    "cartera.sales.migrations.0002_seed_pipeline",
)


@pytest.fixture(autouse=True)
def seeded_rows_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Put back what the migrations seed (fiscal types, legal forms, pipeline stages...).

    A transactional test empties every table when it ends, so whatever runs after it would
    find no fiscal types; each transactional test first puts them back.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    if not FiscalType.objects.exists():
        for module in SEEDED:
            importlib.import_module(module).seed(apps, None)


def make_user(username: str, *, role: str = Role.SALESPERSON, team: Team | None = None) -> User:
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=username.capitalize(),
        role=role,
        team=team,
    )


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="Norte")


@pytest.fixture
def owner(team: Team) -> User:
    """A salesperson who owns the customers under test."""
    return make_user("olga", team=team)


@pytest.fixture
def teammate(team: Team) -> User:
    return make_user("tomas", team=team)


@pytest.fixture
def outsider(db: Any) -> User:
    """A salesperson of another team."""
    return make_user("oscar", team=Team.objects.create(name="Sur"))


@pytest.fixture
def manager(db: Any) -> User:
    return make_user("marta", role=Role.MANAGER)


@pytest.fixture
def admin_user(db: Any) -> User:
    return make_user("ana", role=Role.ADMIN)


@pytest.fixture
def reader(db: Any) -> User:
    return make_user("rita", role=Role.READ_ONLY)


@pytest.fixture
def team_visibility(db: Any) -> Company:
    """Salespeople see only their own and their team's customers."""
    company = Company.load()
    company.visibility_mode = VisibilityMode.TEAM
    company.save()
    return company


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user: User, scope: str = "write") -> dict[str, str]:
    _token, key = ApiToken.issue(user=user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def client_data(**overrides: Any) -> dict[str, Any]:
    """Data for an invoiceable Spanish limited company."""
    data: dict[str, Any] = {
        "kind": "organization",
        "fiscal_type": FiscalType.objects.get(code="sociedad_mercantil"),
        "legal_name": "Muñoz y Asociados SL",
        "tax_country": "ES",
        "tax_id": CIF_SL,
        "stage": "client",
        "channels": [
            {"type": "phone", "value": "+34 600 11 22 33"},
            {"type": "email", "value": "info@munoz.example"},
        ],
        "addresses": [
            {
                "type": "fiscal",
                "street": "Calle Mayor",
                "exterior_number": "28",
                "interior_number": "3º B",
                "postal_code": "28013",
                "municipality": "Madrid",
                "country": "ES",
            }
        ],
    }
    data.update(overrides)
    return data


def make_customer(by: User, **overrides: Any) -> Customer:
    return services.create_customer(data=client_data(**overrides), by=by)


def make_lead(by: User, name: str = "Lead sin datos", **overrides: Any) -> Customer:
    data: dict[str, Any] = {
        "kind": "organization",
        "legal_name": name,
        "stage": "lead",
        "channels": [{"type": "email", "value": f"{abs(hash(name))}@lead.example"}],
    }
    data.update(overrides)
    return services.create_customer(data=data, by=by)


def valid_cif(number: int, letter: str = "B") -> str:
    """A valid Spanish CIF built from a number (0–9,999,999), for many distinct companies."""
    digits = f"{number:07d}"
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    return f"{letter}{digits}{(10 - (odd + even) % 10) % 10}"


def sqlite_copy(path: Path) -> Path | None:
    """The SQLite test database, which lives in this process's memory, copied to ``path`` for
    work that opens it anew (other threads, helper processes); None on PostgreSQL, whose test
    database is already shared."""
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as target:
        connection.connection.backup(target)
    return path
