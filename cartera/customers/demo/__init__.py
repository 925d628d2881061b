"""Realistic demo data: users, teams, groups, tags and customers in six countries.

``generate_customers`` plans the customers without touching the database and gives the same
plans for the same seed; ``load_demo`` resolves their references (fiscal types, legal forms,
owners...) and saves every customer through ``services.create_customer``, so the demo passes
the same validation as the forms, in one transaction.

The planning lives in ``planner``, the per-country data in ``countries`` and ``tax_ids``, the
words and the demo company's users and lists in ``vocabulary`` and ``company``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import Role, Team, User
from cartera.customers import services
from cartera.customers.demo.company import GROUPS, TAGS, USERS
from cartera.customers.demo.countries import COUNTRIES, City, CountrySpec, OrgForm, fill
from cartera.customers.demo.planner import STAGE_SHARES, CustomerPlan, generate_customers
from cartera.customers.models import (
    Customer,
    CustomerGroup,
    FiscalType,
    LeadSource,
    LegalForm,
    Sector,
    Tag,
)

__all__ = [
    "ADMIN_PASSWORD",
    "COUNTRIES",
    "DEMO_PASSWORD",
    "STAGE_SHARES",
    "City",
    "CountrySpec",
    "CustomerPlan",
    "DemoSummary",
    "OrgForm",
    "Writer",
    "fill",
    "generate_customers",
    "load_demo",
]

ADMIN_PASSWORD = "admin"
DEMO_PASSWORD = "demo-cartera"


class Writer(Protocol):
    """Anything with ``write(text)``: a text file or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


@dataclass
class DemoSummary:
    """What load_demo created."""

    customers: int = 0
    by_country: dict[str, Counter[str]] = field(default_factory=dict)
    users_created: list[str] = field(default_factory=list)

    def count(self, country: str, stage: str) -> int:
        """Customers created in a country at a stage."""
        return self.by_country.get(country, Counter())[stage]

    def stage_total(self, stage: str) -> int:
        """Customers created at a stage, all countries together."""
        return sum(counts[stage] for counts in self.by_country.values())


def ensure_users() -> tuple[dict[str, User], list[str]]:
    """The demo's teams and users (created only when missing) and who was created."""
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in {u.team for u in USERS}}
    users: dict[str, User] = {}
    created: list[str] = []
    for spec in USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User.objects.create_user(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@cartera.example",
                role=spec.role,
                team=teams.get(spec.team),
            )
            user.set_password(ADMIN_PASSWORD if spec.role == Role.ADMIN else DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(spec.username)
        users[spec.username] = user
    return users, created


def ensure_lists() -> None:
    """The demo's customer groups and tags."""
    for group in GROUPS:
        CustomerGroup.objects.get_or_create(
            name=group.name,
            defaults={
                "discount_percent": Decimal(group.discount),
                "payment_terms_days": group.payment_terms_days,
                "payment_method": group.payment_method,
            },
        )
    for name in TAGS:
        Tag.objects.get_or_create(name=name)


@dataclass
class References:
    """Rows the plans refer to by code or name."""

    users: dict[str, User]
    fiscal_types: dict[str, FiscalType]
    legal_forms: dict[tuple[str, str], LegalForm]
    groups: dict[str, CustomerGroup]
    lead_sources: dict[str, LeadSource]
    sectors: dict[str, Sector]

    @classmethod
    def load(cls, users: dict[str, User]) -> References:
        """Read the active rows of every list a plan may name."""
        return cls(
            users=users,
            fiscal_types={f.code: f for f in FiscalType.objects.filter(is_active=True)},
            legal_forms={(f.country, f.code): f for f in LegalForm.objects.filter(is_active=True)},
            groups={g.name: g for g in CustomerGroup.objects.all()},
            lead_sources={s.name: s for s in LeadSource.objects.filter(is_active=True)},
            sectors={s.name: s for s in Sector.objects.filter(is_active=True)},
        )

    def resolve(self, plan: CustomerPlan) -> tuple[dict[str, Any], User]:
        """The plan's data with rows instead of references, and who creates the customer."""
        data = dict(plan.data)
        owner = self.users[data["owner"]]
        if not owner.is_active or owner.role == Role.READ_ONLY:
            owner = self.users["admin"]
        data["owner"] = owner
        lookups: dict[str, Callable[[Any], Any]] = {
            "fiscal_type": self.fiscal_types.get,
            "legal_form": lambda code: self.legal_forms.get((plan.country, code)),
            "group": self.groups.get,
            "lead_source": self.lead_sources.get,
            "sector": self.sectors.get,
        }
        for name, lookup in lookups.items():
            if name in data:
                data[name] = lookup(data[name])
        return data, owner


def _backdate(pk: int, plan: CustomerPlan) -> None:
    """Spread creation over two years and leave some data overdue for review."""
    now = timezone.now()
    created = now - timedelta(minutes=plan.created_minutes_ago)
    reviewed = now - timedelta(minutes=plan.reviewed_minutes_ago)
    Customer.objects.filter(pk=pk).update(
        created_at=created, reviewed_at=reviewed, updated_at=reviewed
    )


def _say(stdout: Writer | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


# Other apps add their demo data (tasks, notes, sales...) for the customers just created:
# each is called inside the demo's transaction with the customers and the seed.
DemoExtension = Callable[[list[Customer], int], None]
_EXTENSIONS: list[DemoExtension] = []


def register_demo(extension: DemoExtension) -> None:
    if extension not in _EXTENSIONS:
        _EXTENSIONS.append(extension)


def load_demo(
    *, customers: int = 200, seed: int = 2026, stdout: Writer | None = None
) -> DemoSummary:
    """Create the demo's users, lists and customers in one transaction."""
    summary = DemoSummary()
    with transaction.atomic():
        users, summary.users_created = ensure_users()
        ensure_lists()
        taken = set(Customer.objects.exclude(tax_id="").values_list("tax_country", "tax_id"))
        plans = generate_customers(customers, seed, taken=taken)
        refs = References.load(users)
        _say(stdout, _("Creating %(count)s demo customers…") % {"count": len(plans)})
        created: list[Customer] = []
        for plan in plans:
            data, owner = refs.resolve(plan)
            customer = services.create_customer(data=data, by=owner)
            _backdate(customer.pk, plan)
            created.append(customer)
            summary.by_country.setdefault(plan.country, Counter())[data["stage"]] += 1
            summary.customers += 1
        for extension in _EXTENSIONS:
            extension(created, seed)
    return summary
