"""Moving other apps' rows when two customers are merged.

The quality app moves what the register, the activities and data protection keep about a
customer. An app that adds rows of its own pointing at a customer (the sales app: its
opportunities, quotes, orders and invoices) registers a *mover* in its ``AppConfig.ready``::

    from cartera.quality.movers import MergeContext, register_merge_mover

    def move_sales(merge: MergeContext) -> dict[str, int]:
        moved = Opportunity.objects.filter(customer=merge.other).update(customer=merge.survivor)
        ...
        return {"opportunities": moved}

    register_merge_mover(move_sales)

A mover runs inside the merge's transaction, after the register's own rows moved and before
the other customer is archived. It must move rows with ``QuerySet.update`` (no per-row
signals), point references to the other's contacts that were duplicates at the survivor's
(``merge.contacts``: other's contact id → survivor's contact id), raise ``CustomerInvalid``
to refuse the merge (nothing is kept), and return how many rows of each kind it moved: the
counts are kept with the merge and shown in both timelines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cartera.accounts.models import User
from cartera.customers.models import Customer


@dataclass
class MergeContext:
    survivor: Customer
    other: Customer
    by: User
    # The other's contacts that were duplicates of the survivor's: their ids → the survivor's.
    contacts: dict[int, int] = field(default_factory=dict)


MergeMover = Callable[[MergeContext], Mapping[str, int]]
_MOVERS: list[MergeMover] = []


def register_merge_mover(mover: MergeMover) -> None:
    """Have ``mover`` move an app's rows from the merged customer to the survivor."""
    if mover not in _MOVERS:
        _MOVERS.append(mover)


def merge_movers() -> list[MergeMover]:
    return list(_MOVERS)
