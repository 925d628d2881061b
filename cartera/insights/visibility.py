"""The visibility of ``Customer.objects.visible_to`` applied to snapshot rows.

A snapshot row stands for customers of one owner that are all blocked or all not, which is
what ``visible_to`` decides on: administrators see everything, managers every customer that
is not blocked, salespeople and readers the unblocked customers of their own and their
team's portfolio, or every unblocked one when the company shows the whole portfolio to all.
``tests/insights`` checks that both give the same customers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet

from cartera.customers.models import own_portfolio

Q_ = TypeVar("Q_", bound=QuerySet[Any])


def visible_rows(rows: Q_, user: Any) -> Q_:
    """The rows of ``rows`` (a snapshot queryset) about customers ``user`` may see."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return rows.none()
    if user.is_admin:
        return rows
    unblocked = rows.filter(blocked=False)
    if user.sees_whole_portfolio:
        return unblocked
    return unblocked.filter(own_portfolio(user))
