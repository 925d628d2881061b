"""Pagination that stays fast on a million rows: counts stop at a ceiling.

Plain lists count up to CARTERA_MAX_COUNT (10,000). Search results are bounded harder: a common
surname matches tens of thousands of customers, and sorting them all by name costs more than the
page is worth. ``Customer.objects.search()`` reads only the first CARTERA_MAX_SEARCH_COUNT (200)
matches of the search index (SQLite: by id; PostgreSQL: as the index finds them), and a queryset
that says it is a search (``is_search``) is read in two steps: the ids of those matches that pass
the filters, then the page, sorted, among those ids only. When the index had more matches the
list says "more than N" and invites a narrower search.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator


def count_up_to(queryset: Any, ceiling: int) -> tuple[int, bool]:
    """How many rows match, counting at most ``ceiling``; and whether that is exact."""
    counted = queryset.order_by()[: ceiling + 1].count()
    return min(counted, ceiling), counted <= ceiling


def bound(queryset: Any, ceiling: int | None = None) -> tuple[Any, int, bool]:
    """The rows a list pages through, how many (up to a ceiling) and whether that is exact.

    For a search: one query reads the ids of the first matches, and the rows returned are those
    ids in the queryset's order (``among``). Otherwise the queryset itself, counted up to
    CARTERA_MAX_COUNT.
    """
    if getattr(queryset, "is_search", False):
        ceiling = ceiling or settings.CARTERA_MAX_SEARCH_COUNT
        found, truncated = queryset.first_ids(ceiling)
        ids = list(dict.fromkeys(found))
        exact = len(ids) <= ceiling and not truncated
        return queryset.among(ids[:ceiling]), min(len(ids), ceiling), exact
    count, exact = count_up_to(queryset, ceiling or settings.CARTERA_MAX_COUNT)
    return queryset, count, exact


class BoundedPaginator(Paginator):
    """A paginator whose count reads at most CARTERA_MAX_COUNT rows (a search: fewer, see
    ``bound``).

    Past the ceiling the list says "more than N" and invites a narrower search; pages stay
    within the ceiling, so no page needs a deep OFFSET.
    """

    def __init__(self, object_list: Any, *args: Any, ceiling: int | None = None, **kwargs: Any):
        super().__init__(object_list, *args, **kwargs)
        self.ceiling = ceiling

    @cached_property
    def _bounded(self) -> tuple[int, bool]:
        self.object_list, count, exact = bound(self.object_list, self.ceiling)
        return count, exact

    @cached_property
    def count(self) -> int:
        return self._bounded[0]

    @property
    def count_is_exact(self) -> bool:
        return self._bounded[1]
