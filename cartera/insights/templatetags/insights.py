"""Figures as the dashboard shows them: grouped digits, money with two decimals, percentages."""

from __future__ import annotations

from decimal import Decimal

from django import template

from cartera.insights.charts import fmt
from cartera.insights.services import Column, Number, Row

register = template.Library()

_MONEY = Column("money", "", money=True)
_PERCENT = Column("percent", "", percent=True)


@register.filter
def figure(value: Number) -> str:
    return fmt(value)


@register.filter
def money(value: Number) -> str:
    return fmt(Decimal(value), _MONEY, short=True)


@register.filter
def percent(value: Number) -> str:
    return fmt(value, _PERCENT)


@register.simple_tag
def cell(row: Row, column: Column) -> str:
    return fmt(row.values.get(column.key, 0), column)
