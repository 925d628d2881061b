"""The web server's access log, with secrets in paths left out.

A private calendar address carries its key in the path (calendar applications cannot log
in), so the log writes ``/calendar/….ics`` instead of the key.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_SECRET_PATHS = (re.compile(r"^(/calendar/)[^/]+(\.ics)$"),)


def redact_path(path: str) -> str:
    for pattern in _SECRET_PATHS:
        path = pattern.sub(r"\1…\2", path)
    return path


class RedactingLogger(Logger):
    """gunicorn's logger, with the path atoms passed through ``redact_path``."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        if "U" in atoms:
            atoms["U"] = redact_path(atoms["U"])
        if "r" in atoms:
            atoms["r"] = re.sub(r" (\S+) ", lambda m: f" {redact_path(m[1])} ", atoms["r"], count=1)
        return atoms
