"""The audit history: who did what, when, from where, with field-level before/after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.audit.context import Source


class Action(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("removed")
    ARCHIVE = "archive", _("archived")
    RESTORE = "restore", _("restored")
    MERGE = "merge", _("merged")
    IMPORT = "import", _("imported")
    BULK_UPDATE = "bulk_update", _("changed in bulk")
    VIEW = "view", _("viewed")
    EXPORT = "export", _("exported")
    BLOCK = "block", _("blocked")
    ERASE = "erase", _("anonymised")


class ImmutableHistory(Exception):
    """The history cannot be changed through the application."""


# Objects some users may not see (another person's private task...): for an object type,
# a function giving the ids hidden from a user, as a queryset of primary keys.
HiddenIds = Callable[[Any], "models.QuerySet[Any]"]
_HIDDEN: dict[str, HiddenIds] = {}


def register_hidden(object_type: str, hidden_ids: HiddenIds) -> None:
    """Keep events about some objects of a type out of the history a user sees."""
    _HIDDEN[object_type] = hidden_ids


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableHistory

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableHistory

    def scrub_customer(self, customer_id: int) -> int:
        """Erasure (RGPD art. 17): keep that things happened, drop the person's values."""
        scrubbed = 0
        for item in self.filter(customer_id=customer_id).only("pk", "changes", "object_type"):
            changes = {name: [None, None] for name in (item.changes or {})}
            label_kept = item.object_type == "customer"  # the customer code is not personal
            values: dict[str, Any] = {"changes": changes}
            if not label_kept:
                values["object_label"] = ""
            # The one sanctioned change to the history, bypassing the immutable queryset.
            scrubbed += models.QuerySet.update(self.model.objects.filter(pk=item.pk), **values)
        return scrubbed

    def for_customer(self, customer_id: int) -> AuditQuerySet:
        return self.filter(customer_id=customer_id)

    def changes(self) -> AuditQuerySet:
        return self.exclude(action__in=[Action.VIEW, Action.EXPORT])

    def visible_to(self, user: Any) -> AuditQuerySet:
        """Without events about objects private to someone else (e.g. their private tasks)."""
        qs = self
        for object_type, hidden_ids in _HIDDEN.items():
            qs = qs.exclude(object_type=object_type, object_id__in=hidden_ids(user))
        return qs


class AuditEvent(models.Model):
    """One thing that happened to one object, or one access to personal data."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    request_id = models.CharField(max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    object_type = models.CharField(_("object"), max_length=20)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_label = models.CharField(_("label"), max_length=200, blank=True)
    # The customer the object belongs to, so the ficha shows one history (no FK: kept on erasure).
    customer_id = models.BigIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["customer_id", "-at"], name="audit_customer_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableHistory
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableHistory
