"""``cartera restore PATH [--yes]``: put back a database and uploaded files from a backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cartera.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `cartera backup`: replaces the whole database and the "
        "uploaded files, then checks every table's row count against the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Archive written by `cartera backup`.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Replace a database that already holds data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore_backup(options["path"], confirm=options["yes"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        width = max((len(table) for table in result.counts), default=0)
        for table, rows in result.counts.items():
            self.stdout.write(f"  {table:<{width}}  {rows:>9}")
        self.stdout.write(
            f"Restored the backup of {manifest.created_at}: {len(result.counts)} tables, "
            f"{sum(result.counts.values())} rows (all match the backup), "
            f"{result.media_files} uploaded files."
        )
        if result.pending_migrations:
            self.stdout.write(
                f"The backup predates this version of Cartera ({len(result.pending_migrations)} "
                "migrations to apply): run `cartera migrate` before serving."
            )
