"""The audit history in words: field names and values as a person reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cartera.audit.models import AuditEvent
from cartera.core.countries import country_name, region_name
from cartera.core.phones import format_phone

# object_type -> model, registered by the apps whose objects are audited.
_MODELS: dict[str, type[models.Model]] = {}


def register(object_type: str, model: type[models.Model]) -> None:
    _MODELS[object_type] = model


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class EventView:
    event: AuditEvent
    object_name: str
    changes: list[Change] = field(default_factory=list)


def present(event: AuditEvent) -> EventView:
    model = _MODELS.get(event.object_type)
    name = str(model._meta.verbose_name) if model else event.object_type
    view = EventView(event=event, object_name=name)
    for field_name, values in (event.changes or {}).items():
        before, after = [*values, None, None][:2] if isinstance(values, list) else (None, values)
        label, fmt = _field(model, field_name)
        view.changes.append(Change(label=label, before=fmt(before), after=fmt(after)))
    return view


def _field(model: type[models.Model] | None, name: str) -> tuple[str, Any]:
    try:
        model_field = model._meta.get_field(name) if model else None
    except Exception:  # an unknown name is shown as it is
        model_field = None
    if model_field is None:
        return name.replace("_", " "), _value
    choices = dict(getattr(model_field, "flatchoices", None) or [])
    label = str(getattr(model_field, "verbose_name", name))
    special = _SPECIAL.get(name)
    is_decimal = isinstance(model_field, models.DecimalField)

    def fmt(value: Any) -> str:
        if isinstance(value, str | int) and value in choices:
            return str(choices[value])
        if special and isinstance(value, str) and value:
            return special(value)
        if is_decimal and isinstance(value, str) and value:
            return number_format(Decimal(value), 2, force_grouping=True)
        if isinstance(value, str) and _PHONE.fullmatch(value):
            return format_phone(value)
        return _value(value)

    return label[:1].upper() + label[1:], fmt


_PHONE = re.compile(r"\+\d{7,15}")
_SPECIAL = {
    "country": country_name,
    "tax_country": country_name,
    "region": region_name,
}


def _value(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]} {text[11:16]}"
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text
