from __future__ import annotations

from typing import Any

from django import template

from cartera.core.countries import country_name, region_name

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    try:
        return mapping.get(key, [])
    except AttributeError:
        return []


@register.filter
def country(code: str) -> str:
    return country_name(code)


@register.filter
def region(code: str) -> str:
    return region_name(code)


@register.filter
def phone(value: str, home_region: str = "") -> str:
    from cartera.core.phones import format_phone

    return format_phone(value, home_region) if value else ""
