"""The form renderer writes <select> in Python: the same HTML as Django's templates."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.translation import override

from cartera.core.renderers import FormRenderer
from cartera.customers.filters import CustomerFilter


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "A & <b>"), ("", "None"), (3, 3)])
    grouped = forms.ChoiceField(
        choices=[("Europe", [("es", "España"), ("pt", "Portugal")]), ("x", 'Other "quoted"')]
    )
    many = forms.MultipleChoiceField(
        choices=[("1", "One"), ("2", "Two"), ("3", "Three")],
        widget=forms.SelectMultiple(attrs={"size": 3, "data-x": "<y>", "disabled": False}),
    )
    maybe = forms.NullBooleanField(required=False)
    flag = forms.ChoiceField(choices=[("on", "On")], widget=forms.Select(attrs={"autofocus": True}))


@pytest.mark.parametrize(
    "data", [{}, {"plain": "a", "grouped": "pt", "many": ["1", "3"], "maybe": "true"}]
)
def test_selects_render_as_django_renders_them(data: dict[str, Any]) -> None:
    django_html = Everything(data=data or None, renderer=DjangoTemplates())
    ours = Everything(data=data or None, renderer=FormRenderer())
    for name in Everything.base_fields:
        assert str(ours[name]) == str(django_html[name]), name


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["es", "en"])
def test_the_customer_filters_render_as_django_renders_them(language: str) -> None:
    params = {"country": "MX", "stage": "client", "q": "<script>"}
    with override(language):
        django_html = CustomerFilter(data=params, renderer=DjangoTemplates())
        ours = CustomerFilter(data=params, renderer=FormRenderer())
        for field in ours:
            assert str(field) == str(django_html[field.name]), field.name
        assert 'value="MX" selected' in str(ours["country"])
