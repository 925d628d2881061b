"""Panels other apps add to the ficha (tasks, timeline, documents, sales...).

The register does not depend on those apps: each registers a panel in its
``AppConfig.ready`` and the ficha renders them in order. A panel's context
function must run a fixed number of queries whatever the customer holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from cartera.core.models import Company

PanelContext = Callable[[HttpRequest, Any, Any], dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: PanelContext
    order: int = 100
    # "side" panels sit among the ficha's cards; "wide" ones take the whole width.
    place: str = "side"


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    place: str
    context: dict[str, Any]


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.name] = panel


def panels_for(request: HttpRequest, customer: Any, user: Any) -> list[RenderedPanel]:
    return [
        RenderedPanel(p.name, p.template, p.place, p.context(request, customer, user))
        for p in sorted(_PANELS.values(), key=lambda p: (p.order, p.name))
    ]


# --- What several panels ask, answered once per request -----------------------------------


def editable(request: HttpRequest, customer: Any, user: Any) -> bool:
    """Whether ``user`` may edit ``customer``: one query per request, whoever asks first."""
    from cartera.customers.models import Customer

    known: dict[tuple[Any, Any], bool] = request.__dict__.setdefault("_cartera_editable", {})
    key = (getattr(user, "pk", None), customer.pk)
    if key not in known:
        known[key] = Customer.objects.editable_by(user).filter(pk=customer.pk).exists()
    return known[key]


def company(request: HttpRequest) -> Company:
    """The company's settings, read once per request."""
    found: Company | None = request.__dict__.get("_cartera_company")
    if found is None:
        found = request.__dict__["_cartera_company"] = Company.load()
    return found
