"""``cartera serve``: migrate, then serve the application with gunicorn."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core.commands import Command as BaseCommand

# The access log names the method, the path without its query string, the status, the size
# and the time taken. Left out on purpose: the query string (searches carry names, tax ids,
# e-mails), the referrer (another page's query string), the user agent and the client address.
# Secrets in paths (a private calendar's key) are replaced by "…" (cartera.core.access_log).
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'


def gunicorn_argv(*, host: str, port: int, workers: int) -> list[str]:
    """The gunicorn command line that serves Cartera."""
    return [
        "gunicorn",
        "cartera.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", "4",
        "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--logger-class", "cartera.core.access_log.RedactingLogger",
        "--timeout", "60",
    ]  # fmt: skip


class Command(BaseCommand):
    about = gettext_lazy(
        "Apply migrations and serve Cartera (gunicorn, static files from the package)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--no-migrate", action="store_true", help=_("Skip migrations."))

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        argv = gunicorn_argv(host=options["host"], port=options["port"], workers=options["workers"])
        self.stdout.write(f"Cartera: http://{options['host']}:{options['port']}/")
        sys.stdout.flush()
        os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606
