"""``cartera retention``: the data-protection retention job (run it nightly)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.audit.context import Source, audit_source
from cartera.core.commands import Command as BaseCommand
from cartera.privacy.services import run_retention


class Command(BaseCommand):
    about = gettext_lazy(
        "Anonymise blocked data whose retention ended; block long-inactive customers."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_source(Source.JOB):
            anonymized, blocked = run_retention()
        self.stdout.write(
            _("Customers anonymised: %(anonymised)s; blocked: %(blocked)s.")
            % {"anonymised": anonymized, "blocked": blocked}
        )
