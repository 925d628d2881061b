"""Labels for lifecycle values stored as codes (stage, status, loss reason)."""

from __future__ import annotations

from django import template

from cartera.customers.models import LossReason, Stage, Status

register = template.Library()


@register.filter
def stage_label(value: str) -> str:
    return str(Stage(value).label) if value in Stage.values else value


@register.filter
def status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


@register.filter
def loss_label(value: str) -> str:
    return str(LossReason(value).label) if value in LossReason.values else value
