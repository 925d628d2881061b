"""``cartera backup [PATH]``: the database and the uploaded files in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cartera.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write a backup archive (.tar.gz) with the database, the uploaded files and a "
        "manifest. Safe while Cartera is running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            help="Archive to write, or a directory for it "
            "(default: <data dir>/backups/cartera-YYYYmmdd-HHMMSS.tar.gz).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = create_backup(options["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        # The path alone on the first line, for scripts that keep or copy the archive.
        self.stdout.write(str(result.path))
        self.stdout.write(
            f"  {human_size(result.size)}, made {manifest.created_at}"
            f" by Cartera {manifest.cartera_version or '(not installed)'}\n"
            f"  database: {manifest.vendor}, {len(manifest.tables)} tables, "
            f"{manifest.total_rows} rows, {len(manifest.migrations)} migrations applied\n"
            f"  uploaded files: {manifest.media_files} ({human_size(manifest.media_bytes)})"
        )


def human_size(size: int) -> str:
    """Bytes as a short human figure (``1.4 MB``)."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
