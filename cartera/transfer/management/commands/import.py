"""``cartera import FILE``: check a spreadsheet of customers and import it, here and now.

cartera import clientes.csv --user admin --dry-run
cartera import clientes.xlsx --user admin --policy update_empty --mapping "Mis columnas"
cartera import --resume 12          # an import interrupted half-way goes on where it stopped
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import User
from cartera.audit.context import audit_source
from cartera.core.commands import Command as BaseCommand
from cartera.transfer import services
from cartera.transfer.models import DuplicatePolicy, Import, ImportStatus, MappingTemplate


class Command(BaseCommand):
    about = gettext_lazy("Check and import a CSV, XLSX or ODS file of customers.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help=_("The spreadsheet to import."))
        parser.add_argument(
            "--user", help=_("Username of who imports (default: the first administrator).")
        )
        parser.add_argument("--mapping", default="", help=_("Name of a saved column mapping."))
        parser.add_argument(
            "--policy",
            choices=DuplicatePolicy.values,
            default=DuplicatePolicy.SKIP,
            help=_("What to do with rows that duplicate a customer."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Only check the file; write nothing.")
        )
        parser.add_argument(
            "--resume", type=int, help=_("Go on with an interrupted import (its number).")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source("cli"):
            if options["resume"]:
                batch = Import.objects.filter(pk=options["resume"]).first()
                if batch is None:
                    raise CommandError(_("There is no import %(id)s.") % {"id": options["resume"]})
                self._run(batch)
                return
            if not options["file"]:
                raise CommandError(_("Give the file to import."))
            by = self._user(options["user"])
            batch = self._upload(Path(options["file"]), by, options["mapping"])
            self.stdout.write(
                _("Import %(id)s: %(file)s") % {"id": batch.pk, "file": batch.file_name}
            )
            columns = ", ".join(
                f"{batch.headers[int(i)]} → {key}"
                for i, key in sorted(batch.mapping.items(), key=lambda item: int(item[0]))
            )
            self.stdout.write(_("Columns: %(columns)s") % {"columns": columns})  # fmt: skip
            started = time.perf_counter()
            services.check_now(batch, progress=self._progress(_("Rows checked: %(count)s")))
            self._report(batch, started)
            if batch.status != ImportStatus.CHECKED or options["dry_run"]:
                if batch.status == ImportStatus.FAILED:
                    raise CommandError(batch.message)
                return
            batch.policy = options["policy"]
            batch.status = ImportStatus.QUEUED
            batch.save(update_fields=["policy", "status"])
            self._run(batch)

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (
            users.filter(username=username).first()
            if username
            else users.filter(role="admin").order_by("pk").first()
        )
        if user is None or not user.can_write:
            raise CommandError(_("Give --user, an active user who can write."))
        return user

    def _upload(self, path: Path, by: User, mapping: str) -> Import:
        if not path.is_file():
            raise CommandError(_("%(path)s is not a file.") % {"path": path})
        template = None
        if mapping:
            template = MappingTemplate.objects.filter(created_by=by, name=mapping).first()
            if template is None:
                raise CommandError(_("%(user)s has no column mapping called “%(name)s”.")
                                   % {"user": by, "name": mapping})  # fmt: skip
        with path.open("rb") as stream, transaction.atomic():
            try:
                return services.create_import(file=_Sized(stream, path), name=path.name, by=by,
                                              template=template)  # fmt: skip
            except services.ImportInvalid as exc:
                messages = (m for ms in exc.messages_by_field.values() for m in ms)
                raise CommandError(" ".join(messages)) from exc

    def _run(self, batch: Import) -> None:
        started = time.perf_counter()
        services.run_now(batch, progress=self._progress(_("Imported up to row %(count)s")))
        batch.refresh_from_db()
        self.stdout.write("\n" + _(
            "%(status)s: %(created)s created, %(updated)s updated, %(skipped)s skipped "
            "(%(seconds)s s)."
        ) % {"status": batch.get_status_display(), "created": batch.created_count,
             "updated": batch.updated_count, "skipped": batch.skipped_count,
             "seconds": _seconds(started)})  # fmt: skip
        if batch.status == ImportStatus.FAILED:
            raise CommandError(batch.message)

    def _progress(self, what: str) -> Any:
        def show(count: int) -> None:
            line = what % {"count": count}
            if sys.stdout.isatty():
                self.stdout.write(f"\r{line}", ending="")
            else:
                self.stdout.write(line)
            self.stdout.flush()

        return show

    def _report(self, batch: Import, started: float) -> None:
        batch.refresh_from_db()
        self.stdout.write("\n" + _(
            "Checked %(total)s rows in %(seconds)s s: %(valid)s valid (%(duplicates)s "
            "duplicates), %(invalid)s invalid."
        ) % {"total": batch.total_rows, "seconds": _seconds(started), "valid": batch.valid_rows,
             "duplicates": batch.duplicate_rows, "invalid": batch.invalid_rows})  # fmt: skip
        for error in batch.errors[:20]:
            self.stdout.write("  " + _("Row %(row)s, %(column)s “%(value)s”: %(message)s") % {
                "row": error["row"], "column": error["column"], "value": error["value"],
                "message": error["message"]})  # fmt: skip
        if batch.error_file:
            self.stdout.write(_("Invalid rows with their errors: %(path)s")
                              % {"path": batch.error_file.path})  # fmt: skip
        if batch.status == ImportStatus.FAILED:
            self.stderr.write(batch.message)


def _seconds(started: float) -> str:
    return number_format(time.perf_counter() - started, 1)


class _Sized:
    """A file object that knows its size, as an uploaded file does."""

    def __init__(self, stream: Any, path: Path) -> None:
        self._stream = stream
        self.size = path.stat().st_size
        self.name = path.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __iter__(self) -> Any:
        return iter(self._stream)
