"""``cartera restore PATH [--yes]``: put back a database and uploaded files from a backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core.backup import BackupError, restore_backup
from cartera.core.commands import Command as BaseCommand


class Command(BaseCommand):
    about = gettext_lazy(
        "Restore a backup made by “cartera backup”: replaces the whole database and the "
        "uploaded files, then checks every table's row count against the backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help=_("Archive written by “cartera backup”."))
        parser.add_argument(
            "--yes",
            action="store_true",
            help=_("Replace a database that already holds data."),
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
        self.stdout.write(_(
            "Restored the backup of %(date)s: %(tables)s tables, %(rows)s rows (all match the "
            "backup), %(files)s uploaded files."
        ) % {"date": manifest.created_at, "tables": len(result.counts),
             "rows": sum(result.counts.values()), "files": result.media_files})  # fmt: skip
        if result.pending_migrations:
            self.stdout.write(_(
                "The backup predates this version of Cartera (%(count)s migrations to apply): "
                "run “cartera migrate” before serving."
            ) % {"count": len(result.pending_migrations)})  # fmt: skip
