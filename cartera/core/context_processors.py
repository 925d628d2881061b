from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cartera.core.models import Company


def company(request: HttpRequest) -> dict[str, Any]:
    """The company, loaded only by templates that use it."""
    return {"company": SimpleLazyObject(Company.load)}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which top-level menu entry the current page belongs to."""
    match = request.resolver_match
    if match is None:
        return {}
    name = f"{match.namespace}:{match.url_name}"
    if name == "activities:today":
        return {"nav": "today"}
    if name == "customers:create":
        return {"nav": "create"}
    if match.namespace == "customers":
        return {"nav": "customers"}
    if match.namespace == "lists" or name in {
        "core:settings", "accounts:users", "accounts:user_create", "accounts:user_edit",
        "accounts:teams", "core:jobs",
    }:  # fmt: skip
        return {"nav": "settings"}
    return {}
