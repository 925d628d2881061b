"""The form renderer: Django's templates, with <select> written in Python.

Django renders every <option> through a template include; a country picker has 250 of them and
costs about 12 ms a page, the customer list's filters several times that. ``FormRenderer`` writes
``django/forms/widgets/select.html`` (Select, NullBooleanSelect, SelectMultiple...) directly,
producing the same HTML byte for byte (tests/core/test_renderers.py compares both), and renders
every other template as Django does. A project override of select.html or select_option.html
would be ignored: there is none, and the test would show it.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    """What ``{{ value }}`` prints: localised, then escaped."""
    return str(conditional_escape(str(localize(value))))


def _attrs(attrs: dict[str, Any]) -> str:
    """What django/forms/widgets/attrs.html prints."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_escape(value)}"')
    return "".join(out)


def _escape(value: Any) -> str:
    """What ``{{ value|stringformat:'s' }}`` prints."""
    return str(conditional_escape("%s" % (value,)))  # noqa: UP031 - the filter's own formatting


def render_select(widget: dict[str, Any]) -> str:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option.get("template_name", OPTION) != OPTION:
                raise LookupError(option["template_name"])
            parts.append(
                f'\n  <option value="{_escape(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FormRenderer(DjangoTemplates):
    """Django's default renderer, with <select> widgets written without templates."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT:
            try:
                return mark_safe(render_select(context["widget"]))  # noqa: S308 - escaped above
            except LookupError:  # an option with its own template: let Django render it
                pass
        return super().render(template_name, context, request)
