"""Administrators' pages for the register's editable lists."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cartera.core.views import OptionListEditor
from cartera.customers.models import (
    CustomerGroup,
    CustomField,
    FiscalType,
    LeadSource,
    LegalForm,
    Sector,
)

_small = forms.NumberInput(attrs={"class": "narrow"})

fiscal_types = OptionListEditor(
    model=FiscalType,
    fields=["name", "code", "kind", "position", "is_active"],
    section="fiscal_types",
    title=_("Fiscal types"),
    widgets={"position": _small},
).as_view()

legal_forms = OptionListEditor(
    model=LegalForm,
    fields=["code", "name", "country", "position", "is_active"],
    section="legal_forms",
    title=_("Legal forms"),
    widgets={"position": _small, "country": forms.TextInput(attrs={"class": "narrow"})},
).as_view()

lead_sources = OptionListEditor(
    model=LeadSource,
    fields=["name", "position", "is_active"],
    section="lead_sources",
    title=_("Lead sources"),
    widgets={"position": _small},
).as_view()

sectors = OptionListEditor(
    model=Sector,
    fields=["name", "position", "is_active"],
    section="sectors",
    title=_("Sectors"),
    widgets={"position": _small},
).as_view()

groups = OptionListEditor(
    model=CustomerGroup,
    fields=[
        "name",
        "discount_percent",
        "payment_terms_days",
        "payment_method",
        "pre_inactive_days",
        "inactive_days",
    ],
    section="groups",
    title=_("Customer groups"),
).as_view()

custom_fields = OptionListEditor(
    model=CustomField,
    fields=["label", "key", "field_type", "choices", "required", "position", "is_active"],
    section="custom_fields",
    title=_("Custom fields"),
    widgets={"choices": forms.Textarea(attrs={"rows": 2}), "position": _small},
).as_view()
