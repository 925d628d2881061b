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

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cartera.accounts.models import User
from cartera.audit.context import audit_source
from cartera.transfer import services
from cartera.transfer.models import DuplicatePolicy, Import, ImportStatus, MappingTemplate


class Command(BaseCommand):
    help = "Check and import a CSV, XLSX or ODS file of customers (see docs/import.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The spreadsheet to import.")
        parser.add_argument("--user", help="Username of who imports (default: the first admin).")
        parser.add_argument("--mapping", default="", help="Name of a saved column mapping.")
        parser.add_argument(
            "--policy",
            choices=DuplicatePolicy.values,
            default=DuplicatePolicy.SKIP,
            help="What to do with rows that duplicate a customer.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only check; write nothing.")
        parser.add_argument("--resume", type=int, help="Go on with an interrupted import (id).")

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source("cli"):
            if options["resume"]:
                batch = Import.objects.filter(pk=options["resume"]).first()
                if batch is None:
                    raise CommandError(f"There is no import {options['resume']}.")
                self._run(batch)
                return
            if not options["file"]:
                raise CommandError("Give the file to import.")
            by = self._user(options["user"])
            batch = self._upload(Path(options["file"]), by, options["mapping"])
            self.stdout.write(f"Import {batch.pk}: {batch.file_name}")
            self.stdout.write("Columns: " + ", ".join(
                f"{batch.headers[int(i)]} → {key}" for i, key in sorted(
                    batch.mapping.items(), key=lambda item: int(item[0]))
            ))  # fmt: skip
            started = time.perf_counter()
            services.check_now(batch, progress=self._progress("checked"))
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
            raise CommandError("Give --user, an active user who can write.")
        return user

    def _upload(self, path: Path, by: User, mapping: str) -> Import:
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        template = None
        if mapping:
            template = MappingTemplate.objects.filter(created_by=by, name=mapping).first()
            if template is None:
                raise CommandError(f"{by} has no mapping called {mapping!r}.")
        with path.open("rb") as stream, transaction.atomic():
            try:
                return services.create_import(file=_Sized(stream, path), name=path.name, by=by,
                                              template=template)  # fmt: skip
            except services.ImportInvalid as exc:
                messages = (m for ms in exc.messages_by_field.values() for m in ms)
                raise CommandError(" ".join(messages)) from exc

    def _run(self, batch: Import) -> None:
        started = time.perf_counter()
        services.run_now(batch, progress=self._progress("imported up to row"))
        batch.refresh_from_db()
        self.stdout.write(
            f"\n{batch.get_status_display()}: {batch.created_count} created, "
            f"{batch.updated_count} updated, {batch.skipped_count} skipped "
            f"({time.perf_counter() - started:.1f} s)."
        )
        if batch.status == ImportStatus.FAILED:
            raise CommandError(batch.message)

    def _progress(self, what: str) -> Any:
        def show(count: int) -> None:
            if sys.stdout.isatty():
                self.stdout.write(f"\r{what} {count}", ending="")
            else:
                self.stdout.write(f"{what} {count}")
            self.stdout.flush()

        return show

    def _report(self, batch: Import, started: float) -> None:
        batch.refresh_from_db()
        self.stdout.write(
            f"\nChecked {batch.total_rows} rows in {time.perf_counter() - started:.1f} s: "
            f"{batch.valid_rows} valid ({batch.duplicate_rows} duplicates), "
            f"{batch.invalid_rows} invalid."
        )
        for error in batch.errors[:20]:
            self.stdout.write(
                f"  row {error['row']}, {error['column']} “{error['value']}”: {error['message']}"
            )
        if batch.error_file:
            self.stdout.write(f"Invalid rows with their errors: {batch.error_file.path}")
        if batch.status == ImportStatus.FAILED:
            self.stderr.write(batch.message)


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
