from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from cartera.audit.context import Source, audit_source


class AuditSourceMiddleware:
    """Changes made while serving a request are attributed to the web UI or the API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = Source.API if request.path.startswith("/api/") else Source.UI
        with audit_source(source):
            return self.get_response(request)
