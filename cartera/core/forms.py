from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import get_language


def set_choices(form: forms.BaseForm, name: str, choices: Iterable[tuple[str, Any]]) -> None:
    """Give a choice field its choices at runtime (they depend on the language or data)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class AmountField(forms.DecimalField):
    """A decimal typed as people write it: '1.250.000,50' in Spanish, '1,250,000.50' in English."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().replace(" ", "").replace("\u00a0", "")
            if (get_language() or "es").startswith("en"):
                text = text.replace(",", "")
            elif "," in text or text.count(".") > 1 or re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
                text = text.replace(".", "").replace(",", ".")
            value = text
        return super().to_python(value)
