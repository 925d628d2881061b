"""``cartera duplicates scan``: look for duplicate customers now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core.commands import Command as BaseCommand
from cartera.quality.jobs import scan_duplicates_job
from cartera.quality.scan import scan_duplicates


class Command(BaseCommand):
    about = gettext_lazy(
        "Duplicate customers: scan the register (scan), or queue a scan for the worker (enqueue)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["scan", "enqueue"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "enqueue":
            result = scan_duplicates_job.enqueue()
            self.stdout.write(
                _("Scan queued (%(id)s); “cartera worker” runs it.") % {"id": result.id}
            )
            return
        found = scan_duplicates()
        self.stdout.write(_(
            "%(customers)s customers scanned in %(seconds)s s: %(found)s possible duplicates "
            "(%(created)s new, %(updated)s changed, %(removed)s no longer found)."
        ) % {"customers": found.customers, "seconds": number_format(found.seconds, 1),
             "found": found.found, "created": found.created, "updated": found.updated,
             "removed": found.removed})  # fmt: skip
