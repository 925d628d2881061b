"""Where a change comes from (web, API, import, job, command line), for the audit history."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    UI = "ui", _("web")
    API = "api", _("API")
    IMPORT = "import", _("import")
    JOB = "job", _("background job")
    CLI = "cli", _("command line")
    SYSTEM = "system", _("system")


_source: contextvars.ContextVar[str] = contextvars.ContextVar("audit_source", default=Source.SYSTEM)
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("audit_request", default="")


def current_source() -> str:
    return _source.get()


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def audit_source(source: str, request_id: str | None = None) -> Iterator[None]:
    """Attribute every change made inside the block to ``source``."""
    token = _source.set(source)
    request_token = _request_id.set(request_id or uuid.uuid4().hex[:16])
    try:
        yield
    finally:
        _source.reset(token)
        _request_id.reset(request_token)
