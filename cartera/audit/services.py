"""Recording the audit history. Services call these inside their own transaction."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from cartera.audit.context import current_request_id, current_source
from cartera.audit.models import Action, AuditEvent


def plain(value: Any) -> Any:
    """A JSON-safe, human-meaningful form of a field value."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [before, after]}."""
    return {
        name: [before.get(name), after.get(name)]
        for name in after
        if _empty(before.get(name)) != _empty(after.get(name))
        or (not _empty(after.get(name)) and before.get(name) != after.get(name))
    }


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def event(
    *,
    action: str,
    object_type: str,
    object_id: int | None,
    label: str = "",
    customer_id: int | None = None,
    by: Any = None,
    changes: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> AuditEvent:
    """An unsaved event attributed to the current source and request."""
    actor = by if getattr(by, "pk", None) else None
    return AuditEvent(
        actor=actor,
        actor_name=str(actor or "")[:150],
        source=current_source(),
        request_id=current_request_id(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=str(label)[:200],
        customer_id=customer_id,
        version=version,
        changes=dict(changes or {}),
    )


def record(**kwargs: Any) -> AuditEvent:
    """Save one event now."""
    item = event(**kwargs)
    item.save()
    return item


def record_on_customer(
    customer: Any,
    *,
    action: str,
    by: Any = None,
    changes: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> AuditEvent:
    """Save an event about the customer record itself (labelled with its code)."""
    return record(
        action=action,
        object_type="customer",
        object_id=customer.pk,
        label=customer.code,
        customer_id=customer.pk,
        by=by,
        changes=changes,
        version=version,
    )


def record_all(events: Iterable[AuditEvent]) -> None:
    """Save many events in one statement (bulk paths)."""
    AuditEvent.objects.bulk_create(list(events), batch_size=1000)


def record_access(
    *, by: Any, object_type: str, object_id: int, label: str, customer_id: int
) -> None:
    """Log that someone looked at a record's personal data."""
    record(
        action=Action.VIEW,
        object_type=object_type,
        object_id=object_id,
        label=label,
        customer_id=customer_id,
        by=by,
    )
