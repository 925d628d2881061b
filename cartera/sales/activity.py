"""Purchase activity (``Customer.activity``, kept in ``PurchaseActivity``) derived from
invoices, set-based.

A customer whose last invoice (not cancelled) is N days old is:

- ``active`` while N < the pre-inactive threshold (30 days by default),
- ``pre_inactive`` from that threshold while N < the inactive threshold (45 by default),
- ``inactive`` from N = the inactive threshold on,
- ``never`` without invoices.

Thresholds come from ``CARTERA_PRE_INACTIVE_DAYS`` / ``CARTERA_INACTIVE_DAYS`` and, for the
customers of a group that sets them, from the group's ``pre_inactive_days`` /
``inactive_days``.

The whole portfolio is recomputed set-based: one query reads every customer's last invoice
date (one grouped scan of the invoices) and its new status (a CASE on the group picks each
customer's cut-off dates), keeping in a temporary table only the customers whose status
changes; then one delete and one upsert apply them to ``PurchaseActivity`` (a customer that
never bought has no row there). No loop runs over customers. Customers that become
pre-inactive get a reminder for their owner.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from cartera.customers.models import Activity, Customer, CustomerGroup, PurchaseActivity
from cartera.sales.models import DocumentState, DocumentType, SalesDocument

CHANGES_TABLE = "sales_activity_changes"


@dataclass(frozen=True)
class Thresholds:
    pre_inactive_days: int
    inactive_days: int


def default_thresholds() -> Thresholds:
    pre = int(getattr(settings, "CARTERA_PRE_INACTIVE_DAYS", 30))
    inactive = int(getattr(settings, "CARTERA_INACTIVE_DAYS", 45))
    return Thresholds(pre, max(pre, inactive))


def group_thresholds() -> dict[int, Thresholds]:
    """The groups that set their own thresholds (a group may set one of the two)."""
    default = default_thresholds()
    found: dict[int, Thresholds] = {}
    groups = CustomerGroup.objects.filter(pre_inactive_days__isnull=False) | (
        CustomerGroup.objects.filter(inactive_days__isnull=False)
    )
    for pk, pre, inactive in groups.values_list("pk", "pre_inactive_days", "inactive_days"):
        pre_days = default.pre_inactive_days if pre is None else pre
        inactive_days = default.inactive_days if inactive is None else inactive
        found[pk] = Thresholds(pre_days, max(pre_days, inactive_days))
    return found


def _cutoff_sql(
    today: datetime.date, days_of: Any, groups: dict[int, Thresholds], default: int
) -> tuple[str, list[Any]]:
    """The latest purchase date that is at least N days old, N per customer's group:
    ``CASE group_id WHEN 3 THEN '2026-01-01' ... ELSE <default> END``."""
    params: list[Any] = []
    parts = []
    for pk, thresholds in sorted(groups.items()):
        parts.append("WHEN %s THEN %s")
        params += [pk, today - datetime.timedelta(days=days_of(thresholds))]
    fallback = today - datetime.timedelta(days=default)
    if not parts:
        return "%s", [fallback]
    return f"(CASE c.group_id {' '.join(parts)} ELSE %s END)", [*params, fallback]


def _purchases_sql(customer_ids: list[int] | None) -> tuple[str, list[Any]]:
    """Each customer's last purchase: the latest invoice that is not cancelled."""
    sql = (
        "SELECT customer_id, MAX(issue_date) AS last_on FROM sales_salesdocument "
        "WHERE type = %s AND state <> %s"
    )
    params: list[Any] = [DocumentType.INVOICE.value, DocumentState.CANCELLED.value]
    if customer_ids is not None:
        sql += f" AND customer_id IN ({', '.join(['%s'] * len(customer_ids))})"
        params += customer_ids
    return sql + " GROUP BY customer_id", params


def recompute_activity(
    today: datetime.date | None = None, *, customer_ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Recompute purchase activity for every customer (or only ``customer_ids``).

    One query computes, for every customer at once, the status its last purchase gives it and
    keeps in a temporary table only the customers whose status changes; then a delete and an
    upsert apply them. Returns how many customers moved to each status; one transaction.
    """
    today = today or timezone.localdate()
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids is not None and not ids:
        return {}
    default = default_thresholds()
    groups = group_thresholds()
    pre_cut, pre_params = _cutoff_sql(
        today, lambda t: t.pre_inactive_days, groups, default.pre_inactive_days
    )
    inactive_cut, inactive_params = _cutoff_sql(
        today, lambda t: t.inactive_days, groups, default.inactive_days
    )
    table = connection.ops.quote_name(Customer._meta.db_table)
    kept = connection.ops.quote_name(PurchaseActivity._meta.db_table)
    purchases, purchase_params = _purchases_sql(ids)
    # Purchases on or before a cut-off date are at least that many days old.
    status = (
        f"CASE WHEN p.last_on IS NULL THEN %s WHEN p.last_on > {pre_cut} THEN %s "
        f"WHEN p.last_on > {inactive_cut} THEN %s ELSE %s END"
    )
    status_params = [
        Activity.NEVER, *pre_params, Activity.ACTIVE, *inactive_params,
        Activity.PRE_INACTIVE, Activity.INACTIVE,
    ]  # fmt: skip
    scope, scope_params = "", []
    if ids is not None:
        scope = f"WHERE c.id IN ({', '.join(['%s'] * len(ids))})"
        scope_params = list(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGES_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {CHANGES_TABLE} "
            "(customer_id bigint PRIMARY KEY, activity varchar(16) NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {CHANGES_TABLE} (customer_id, activity) "  # noqa: S608
            "SELECT id, new FROM ("
            f"SELECT c.id, COALESCE(a.activity, %s) AS old, {status} AS new FROM {table} AS c "
            f"LEFT JOIN {kept} AS a ON a.customer_id = c.id "
            f"LEFT JOIN ({purchases}) AS p ON p.customer_id = c.id {scope}"
            ") AS computed WHERE old <> new",
            [Activity.NEVER, *status_params, *purchase_params, *scope_params],
        )
        changed = f"SELECT customer_id FROM {CHANGES_TABLE} WHERE activity = %s"  # noqa: S608
        # Customers with no invoice left lose their row; the others get theirs written. An
        # upsert, so that two invoices for one customer committed together cannot both insert.
        cursor.execute(
            f"DELETE FROM {kept} WHERE customer_id IN ({changed})",  # noqa: S608
            [Activity.NEVER],
        )
        cursor.execute(
            f"INSERT INTO {kept} (customer_id, activity) "  # noqa: S608
            f"SELECT customer_id, activity FROM {CHANGES_TABLE} WHERE activity <> %s "
            "ON CONFLICT (customer_id) DO UPDATE SET activity = excluded.activity",
            [Activity.NEVER],
        )
        cursor.execute(
            f"SELECT activity, COUNT(*) FROM {CHANGES_TABLE} GROUP BY activity"  # noqa: S608
        )
        moved = {value: 0 for value in Activity.values} | dict(cursor.fetchall())
        cursor.execute(changed, [Activity.PRE_INACTIVE])
        turned = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {CHANGES_TABLE}")
        if turned:
            _remind(turned, today)
    return moved


def _remind(customer_ids: list[int], today: datetime.date) -> None:
    from cartera.activities.reminders import create_pre_inactive_reminders

    create_pre_inactive_reminders(customer_ids, today)


def last_purchase_on(customer: Customer) -> datetime.date | None:
    return (
        SalesDocument.objects.invoices()
        .filter(customer=customer)
        .order_by("-issue_date")
        .values_list("issue_date", flat=True)
        .first()
    )


@task()
def recompute_activity_job() -> dict[str, int]:
    """The nightly job: every customer's purchase activity (registered at 02:30)."""
    return {str(k): v for k, v in recompute_activity(timezone.localdate()).items()}
