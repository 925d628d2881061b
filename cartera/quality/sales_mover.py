"""The sales app's rows when two customers are merged: opportunities and sales documents.

Issued documents keep the fiscal data they were issued with (it is copied on the document),
so moving them changes where they are listed, not what they say. The survivor's purchase
activity is recomputed from the invoices it now has.
"""

from __future__ import annotations

from cartera.quality.movers import MergeContext


def move_sales(merge: MergeContext) -> dict[str, int]:
    from cartera.sales.activity import recompute_activity
    from cartera.sales.models import Opportunity, SalesDocument

    moved = {
        "opportunities": Opportunity.objects.filter(customer=merge.other).update(
            customer=merge.survivor
        ),
        "sales_documents": SalesDocument.objects.filter(customer=merge.other).update(
            customer=merge.survivor
        ),
    }
    if moved["sales_documents"]:
        recompute_activity(customer_ids=[merge.survivor.pk])
    return moved
