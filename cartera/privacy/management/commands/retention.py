"""``cartera retention``: the data-protection retention job (run it nightly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cartera.audit.context import Source, audit_source
from cartera.privacy.services import run_retention


class Command(BaseCommand):
    help = "Anonymise blocked data whose retention ended; block long-inactive customers."

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(Source.JOB):
            anonymized, blocked = run_retention()
        self.stdout.write(f"Anonymised {anonymized} customer(s); blocked {blocked}.")
