"""Pagination that stays fast on a million rows: counts stop at a ceiling."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator


def count_up_to(queryset: Any, ceiling: int) -> tuple[int, bool]:
    """How many rows match, counting at most ``ceiling``; and whether that is exact."""
    counted = queryset.order_by()[: ceiling + 1].count()
    return min(counted, ceiling), counted <= ceiling


class BoundedPaginator(Paginator):
    """A paginator whose COUNT(*) reads at most CARTERA_MAX_COUNT rows.

    Past the ceiling the list says "more than N" and invites a narrower search; pages stay
    within the ceiling, so no page needs a deep OFFSET.
    """

    def __init__(self, *args: Any, ceiling: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ceiling = ceiling or settings.CARTERA_MAX_COUNT

    @cached_property
    def _bounded(self) -> tuple[int, bool]:
        return count_up_to(self.object_list, self.ceiling)

    @cached_property
    def count(self) -> int:
        return self._bounded[0]

    @property
    def count_is_exact(self) -> bool:
        return self._bounded[1]
