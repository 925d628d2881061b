"""``cartera demo``: load realistic demo data (users, groups and customers in six countries)."""

from __future__ import annotations

import resource
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.core.commands import Command as BaseCommand
from cartera.core.countries import country_name
from cartera.customers.demo import COUNTRIES, STAGE_SHARES, DemoSummary, load_demo
from cartera.customers.demo.bulk import BulkSummary, bulk_load
from cartera.customers.models import Customer, Stage

# Above this many customers the demo is written in bulk instead of through the services.
BULK_THRESHOLD = 2000


def format_summary(summary: DemoSummary) -> str:
    """A table of the customers created per country and stage, and how to log in."""
    stages = list(STAGE_SHARES)
    names = [str(Stage(stage).label) for stage in stages]
    header = f"{_('Country'):<12}" + "".join(f"{n:>12}" for n in names) + f"{_('Total'):>8}"
    loaded = _("Demo data loaded: %(count)s customers.") % {"count": summary.customers}
    lines = [loaded, "", header]
    for code in COUNTRIES:
        counts = [summary.count(code, stage) for stage in stages]
        if any(counts):
            row = "".join(f"{count:>12}" for count in counts)
            lines.append(f"{country_name(code):<12}{row}{sum(counts):>8}")
    totals = "".join(f"{summary.stage_total(stage):>12}" for stage in stages)
    lines.append(f"{_('Total'):<12}{totals}{summary.customers:>8}")
    lines.append("")
    if summary.users_created:
        users = ", ".join(summary.users_created)
        lines.append(_("Users created: %(users)s.") % {"users": users})
    lines += [
        _("Log in as admin with the password “admin” and change it as soon as you are in."),
        _(
            "The salespeople (lucia, mateo, valentina, diego, camila, santiago) and the sales "
            "manager (gerente) use the password “demo-cartera”."
        ),
    ]
    return "\n".join(lines)


def format_bulk(summary: BulkSummary) -> str:
    """What else the bulk load wrote, how long it took and the memory it needed."""
    # The larger of this process and the one it forked to generate the customers.
    processes = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    peak = max(resource.getrusage(who).ru_maxrss for who in processes)
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    wrote = _(
        "Codes %(first)s to %(last)s; %(channels)s contact channels, %(addresses)s addresses "
        "and %(contacts)s contacts."
    ) % {"first": summary.first_code, "last": summary.last_code, "channels": summary.channels,
         "addresses": summary.addresses, "contacts": summary.contacts}  # fmt: skip
    # The phases keep their names in the code's words: bench/run.py reads them.
    phases = "; ".join(
        f"{name} {number_format(seconds, 1)} s" for name, seconds in summary.phases.items()
    )
    took = _("Total time: %(seconds)s s (%(phases)s) · peak memory: %(memory)s MB.") % {
        "seconds": number_format(summary.seconds, 1),
        "phases": phases,
        "memory": number_format(peak_mb, 0),
    }
    return f"{wrote}\n{took}"


class Command(BaseCommand):
    about = gettext_lazy("Load demo data: users, teams, groups and customers in six countries.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=200,
            help=_("How many customers to create (200)."),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help=_("Seed: the same one gives the same data."),
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=5000,
            help=_("Customers per transaction in the bulk load (5000)."),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("Do nothing if there are customers already (for the first start)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write(_("There are customers already: no demo data is loaded."))
            return
        if options["customers"] < 0:
            raise CommandError(_("--customers cannot be negative."))
        if options["batch"] < 1:
            raise CommandError(_("--batch must be at least 1."))
        if options["customers"] <= BULK_THRESHOLD:
            summary = load_demo(
                customers=options["customers"], seed=options["seed"], stdout=self.stdout
            )
            self.stdout.write(format_summary(summary))
            return
        self.stdout.write(
            _("Bulk load of %(count)s customers (seed %(seed)s)…")
            % {"count": options["customers"], "seed": options["seed"]}
        )
        bulk = bulk_load(
            customers=options["customers"],
            seed=options["seed"],
            batch=options["batch"],
            stdout=self.stdout,
        )
        self.stdout.write(format_summary(bulk))
        self.stdout.write(format_bulk(bulk))
