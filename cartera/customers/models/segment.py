"""Segments: saved customer filters, private to their owner or shared."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SegmentQuerySet(models.QuerySet["Segment"]):
    def visible_to(self, user: Any) -> SegmentQuerySet:
        """A user's own segments and the shared ones."""
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        return self.filter(Q(owner=user) | Q(shared=True))


class Segment(models.Model):
    """A named customer filter, kept as the list's query string."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="segments",
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    query = models.TextField(_("filters"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name
