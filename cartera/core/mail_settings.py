"""E-mail settings from the environment: read by cartera/settings.py (no Django imports here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

SMTP = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"
FILES = "django.core.mail.backends.filebased.EmailBackend"
_YES = {"1", "true", "yes", "on"}


def email_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Django's EMAIL_* settings from EMAIL_URL or EMAIL_HOST...; the console when neither."""
    found: dict[str, Any] = {
        "EMAIL_BACKEND": CONSOLE,  # development: messages are printed by the server and worker
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": 25,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": int(environ.get("EMAIL_TIMEOUT") or 10),
        "EMAIL_FILE_PATH": "",
    }
    if url := environ.get("EMAIL_URL", "").strip():
        # smtp://user:password@host:587 (STARTTLS; ?tls=0 for none), smtps://...:465, console://
        parts = urlsplit(url)
        options = {key: value.lower() in _YES for key, value in parse_qsl(parts.query)}
        if parts.scheme == "console":
            return found
        if parts.scheme == "file":
            # file:///absolute/folder: each message is saved there as a file, nothing is sent.
            # The folder is what follows file:// as written (a '#' or '?' is part of it).
            folder = unquote(url.split("://", 1)[1].removeprefix("localhost"))
            if not folder.startswith("/") or folder.strip("/") == "":
                raise ValueError(f"EMAIL_URL file:// needs an absolute folder: {url}")
            return found | {"EMAIL_BACKEND": FILES, "EMAIL_FILE_PATH": folder}
        if parts.scheme not in {"smtp", "smtps"}:
            raise ValueError(
                f"EMAIL_URL must start smtp://, smtps://, file:// or console://: {parts.scheme}"
            )
        ssl = parts.scheme == "smtps"
        found |= {
            "EMAIL_BACKEND": SMTP,
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if ssl else 587),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": ssl,
            "EMAIL_USE_TLS": not ssl and options.get("tls", True),
        }
    elif host := environ.get("EMAIL_HOST", "").strip():
        ssl = environ.get("EMAIL_USE_SSL", "").lower() in _YES
        found |= {
            "EMAIL_BACKEND": SMTP,
            "EMAIL_HOST": host,
            "EMAIL_PORT": int(environ.get("EMAIL_PORT") or (465 if ssl else 587)),
            "EMAIL_HOST_USER": environ.get("EMAIL_HOST_USER", ""),
            "EMAIL_HOST_PASSWORD": environ.get("EMAIL_HOST_PASSWORD", ""),
            "EMAIL_USE_SSL": ssl,
            "EMAIL_USE_TLS": not ssl and environ.get("EMAIL_USE_TLS", "1").lower() in _YES,
        }
    if backend := environ.get("EMAIL_BACKEND", "").strip():
        found["EMAIL_BACKEND"] = backend
    return found
