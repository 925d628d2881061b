"""``cartera demo``: load realistic demo data (users, groups and customers in six countries)."""

from __future__ import annotations

import resource
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cartera.customers.demo import COUNTRIES, STAGE_SHARES, DemoSummary, load_demo
from cartera.customers.demo.bulk import BulkSummary, bulk_load
from cartera.customers.models import Customer

# Above this many customers the demo is written in bulk instead of through the services.
BULK_THRESHOLD = 2000

STAGE_NAMES = {
    "lead": "Lead",
    "prospect": "Prospecto",
    "client": "Cliente",
    "former": "Ex cliente",
    "lost": "Perdido",
}


def format_summary(summary: DemoSummary) -> str:
    """A table of the customers created per country and stage, and how to log in."""
    stages = list(STAGE_SHARES)
    header = f"{'País':<12}" + "".join(f"{STAGE_NAMES[s]:>12}" for s in stages) + f"{'Total':>8}"
    lines = [f"Datos de demostración cargados: {summary.customers} clientes.", "", header]
    for code, spec in COUNTRIES.items():
        counts = [summary.count(code, stage) for stage in stages]
        if any(counts):
            row = "".join(f"{count:>12}" for count in counts)
            lines.append(f"{spec.name:<12}{row}{sum(counts):>8}")
    totals = "".join(f"{summary.stage_total(stage):>12}" for stage in stages)
    lines.append(f"{'Total':<12}{totals}{summary.customers:>8}")
    lines.append("")
    if summary.users_created:
        lines.append("Usuarios creados: " + ", ".join(summary.users_created) + ".")
    lines += [
        "Entra como admin con la contraseña «admin» y cámbiala en cuanto entres.",
        "Los comerciales (lucia, mateo, valentina, diego, camila, santiago) y el gerente "
        "(gerente) usan la contraseña «demo-cartera».",
    ]
    return "\n".join(lines)


def format_bulk(summary: BulkSummary) -> str:
    """What else the bulk load wrote, how long it took and the memory it needed."""
    # The larger of this process and the one it forked to generate the customers.
    processes = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    peak = max(resource.getrusage(who).ru_maxrss for who in processes)
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    return (
        f"Códigos {summary.first_code} a {summary.last_code}; "
        f"{summary.channels} vías de contacto, {summary.addresses} direcciones y "
        f"{summary.contacts} contactos.\n"
        f"Tiempo total: {summary.seconds:.1f} s ("
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary.phases.items())
        + f") · memoria máxima: {peak_mb:.0f} MB."
    )


class Command(BaseCommand):
    help = "Carga datos de demostración: usuarios, equipos, grupos y clientes de seis países."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=200, help="Cuántos clientes crear (200)."
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Semilla: la misma da los mismos datos."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=5000,
            help="Clientes por transacción en la carga masiva (5000).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="No hacer nada si ya hay clientes (para el primer arranque).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("Ya hay clientes: no se cargan datos de demostración.")
            return
        if options["customers"] < 0:
            raise CommandError("--customers no puede ser negativo.")
        if options["batch"] < 1:
            raise CommandError("--batch debe ser al menos 1.")
        if options["customers"] <= BULK_THRESHOLD:
            summary = load_demo(
                customers=options["customers"], seed=options["seed"], stdout=self.stdout
            )
            self.stdout.write(format_summary(summary))
            return
        self.stdout.write(
            f"Carga masiva de {options['customers']} clientes (semilla {options['seed']})…"
        )
        bulk = bulk_load(
            customers=options["customers"],
            seed=options["seed"],
            batch=options["batch"],
            stdout=self.stdout,
        )
        self.stdout.write(format_summary(bulk))
        self.stdout.write(format_bulk(bulk))
