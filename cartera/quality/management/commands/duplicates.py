"""``cartera duplicates scan``: look for duplicate customers now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cartera.quality.jobs import scan_duplicates_job
from cartera.quality.scan import scan_duplicates


class Command(BaseCommand):
    help = (
        "Duplicate customers: scan the register (scan), or queue a scan for the worker (enqueue)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["scan", "enqueue"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "enqueue":
            result = scan_duplicates_job.enqueue()
            self.stdout.write(f"Scan queued ({result.id}); `cartera worker` runs it.")
            return
        found = scan_duplicates()
        self.stdout.write(
            f"{found.customers} customers scanned in {found.seconds:.1f} s: "
            f"{found.found} possible duplicates ({found.created} new, {found.updated} changed, "
            f"{found.removed} no longer found)."
        )
