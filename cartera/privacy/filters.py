"""The customer list's consent filter: marketing lists leave out who withdrew consent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import CustomerQuerySet
from cartera.privacy.models import Purpose
from cartera.privacy.queries import contactable_for


class ConsentFilter:
    name = "contactable_for"

    def add_fields(self, form: forms.Form) -> None:
        form.fields[self.name] = forms.ChoiceField(
            label=_("Can be contacted for"),
            required=False,
            choices=[("", _("Any purpose")), *Purpose.choices],
        )

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
        purpose = data.get(self.name)
        return contactable_for(queryset, purpose) if purpose else queryset
