"""``cartera backup [PATH]``: the database and the uploaded files in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core.backup import BackupError, create_backup
from cartera.core.commands import Command as BaseCommand


class Command(BaseCommand):
    about = gettext_lazy(
        "Write a backup archive (.tar.gz) with the database, the uploaded files and a "
        "manifest. Safe while Cartera is running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            help=_(
                "Archive to write, or a directory for it "
                "(default: <data dir>/backups/cartera-YYYYmmdd-HHMMSS.tar.gz)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = create_backup(options["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        # The path alone on the first line, for scripts that keep or copy the archive.
        self.stdout.write(str(result.path))
        version = manifest.cartera_version or _("(not installed)")
        self.stdout.write(
            "  "
            + _("%(size)s, made %(date)s by Cartera %(version)s")
            % {"size": human_size(result.size), "date": manifest.created_at, "version": version}
        )
        self.stdout.write(
            "  "
            + _(
                "database: %(vendor)s, %(tables)s tables, %(rows)s rows, %(migrations)s migrations "
                "applied"
            )
            % {
                "vendor": manifest.vendor,
                "tables": len(manifest.tables),
                "rows": manifest.total_rows,
                "migrations": len(manifest.migrations),
            }
        )
        self.stdout.write("  " + _("uploaded files: %(count)s (%(size)s)") % {
            "count": manifest.media_files, "size": human_size(manifest.media_bytes)})  # fmt: skip


def human_size(size: int) -> str:
    """Bytes as a short figure in the active language ("1,4 MB" in Spanish), spaced plainly
    for a terminal."""
    return filesizeformat(size).replace("\xa0", " ")
