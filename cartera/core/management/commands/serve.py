"""``cartera serve``: migrate, then serve the application with gunicorn."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Apply migrations and serve Cartera (gunicorn, static files from the package)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrations.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        bind = f"{options['host']}:{options['port']}"
        argv = [
            "gunicorn",
            "cartera.wsgi:application",
            "--bind", bind,
            "--workers", str(options["workers"]),
            "--threads", "4",
            "--access-logfile", "-",
            "--timeout", "60",
        ]  # fmt: skip
        self.stdout.write(f"Cartera: http://{bind}/")
        sys.stdout.flush()
        os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606
