from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

from cartera.customers.models import CustomerQuerySet
from cartera.privacy.models import ConsentRecord, ConsentState


def latest_state(purpose: str) -> Subquery:
    """The customer's latest consent state for a purpose (customer-level records)."""
    return Subquery(
        ConsentRecord.objects.filter(customer=OuterRef("pk"), purpose=purpose, contact__isnull=True)
        .order_by("-recorded_on", "-id")
        .values("state")[:1]
    )


def contactable_for(queryset: CustomerQuerySet, purpose: str) -> CustomerQuerySet:
    """Customers who have not withdrawn consent for the purpose (and are not blocked)."""
    return (
        queryset.filter(blocked_at__isnull=True, anonymized_at__isnull=True)
        .alias(consent_state=latest_state(purpose))
        .filter(Q(consent_state__isnull=True) | ~Q(consent_state=ConsentState.WITHDRAWN))
    )
