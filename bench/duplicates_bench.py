"""How long the duplicate scan takes on the bench database (target: 100,000 customers <= 60 s).

    .venv/bin/python bench/duplicates_bench.py                       # SQLite, 100,000 customers
    .venv/bin/python bench/duplicates_bench.py --db postgres --size 100000
    make bench-duplicates SIZE=100000 DB=sqlite

The database of ``bench/run.py`` (build it first: ``make bench SIZE=100000``) is copied — a
file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL — so the measured one is
never changed. The copy is migrated, then gets ``--plant`` known duplicates: existing customers
typed again with a variant of their name (no legal form, other accents and case), in the same
postal code, a third sharing the original's e-mail and a third its phone. The scan then runs
twice through ``scan_duplicates()`` (the code the job and ``cartera duplicates scan`` run): the
first time it fills the queue, the second time it finds everything already there. The report
gives both times, peak memory, how many pairs it found and how many of the planted ones
(recall). Results go to ``bench/results/duplicates-<db>-<size>-<seed>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
from bench.run import RESULTS, database_url  # noqa: E402

TARGET_SECONDS = 60.0
LEGAL_FORMS = {"SL", "SA", "SLU", "S.L", "S.A", "SAS", "SRL", "LTDA", "CV", "DE"}


def copy_database(db: str, size: int, seed: int) -> tuple[str, Any]:
    """A throw-away copy of the bench database: its URL and how to remove it."""
    source = database_url(db, size, seed)
    if db == "sqlite":
        path = Path(source.removeprefix("sqlite:///"))
        if not path.exists():
            return "", None
        folder = Path(tempfile.mkdtemp(prefix="cartera-dup-bench-"))
        target = folder / "cartera.sqlite3"
        with sqlite3.connect(path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # consistent even with the WAL of a running bench
        return f"sqlite:///{target}", lambda: shutil.rmtree(folder, ignore_errors=True)
    server, _, name = source.rpartition("/")
    copy = f"{name}_dup"
    admin = f"{server}/postgres"
    exists = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
    if not subprocess.run(["psql", admin, "-Atc", exists], capture_output=True, text=True).stdout:
        return "", None
    for sql in (f"DROP DATABASE IF EXISTS {copy}", f"CREATE DATABASE {copy} TEMPLATE {name}"):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True)
    drop = f"DROP DATABASE IF EXISTS {copy}"
    return f"{server}/{copy}", lambda: subprocess.run(
        ["psql", admin, "-q", "-c", drop], check=False
    )


def variant(name: str, rng: random.Random) -> str:
    """The same name as someone else would type it."""
    words = [w for w in name.split() if w.rstrip(".").upper() not in LEGAL_FORMS]
    text = " ".join(words) or name
    table = str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN")
    return rng.choice([text.upper(), text.translate(table), text.lower().title(), f"{text} S.L."])


def plant(count: int, seed: int) -> list[tuple[int, int]]:
    """Copy ``count`` customers with their fiscal address and one shared channel; the pairs."""
    from django.db import transaction

    from cartera.customers.models import Address, ContactChannel, Customer
    from cartera.customers.models.customer import sort_name_of

    rng = random.Random(seed)
    total = Customer.objects.count()
    step = max(1, total // count)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[::step][:count])
    originals = Customer.objects.in_bulk(ids)
    fiscal = {a.customer_id: a for a in Address.objects.filter(customer_id__in=ids, type="fiscal")}
    channels: dict[int, dict[str, str]] = {}
    for c in ContactChannel.objects.filter(customer_id__in=ids, type__in=["email", "phone"]):
        channels.setdefault(c.customer_id, {}).setdefault(c.type, c.value)
    copies = []
    for n, pk in enumerate(ids):
        item = originals[pk]
        item.pk = None
        item.code = f"DUP-{n:06d}"
        item.legal_name = variant(item.legal_name, rng)
        item.trade_name = ""
        item.sort_name = sort_name_of(item.legal_name)
        item.tax_id = ""
        copies.append(item)
    with transaction.atomic():
        Customer.objects.bulk_create(copies, batch_size=1000)
        addresses, new_channels = [], []
        for n, (pk, copy) in enumerate(zip(ids, copies, strict=True)):
            if pk in fiscal:
                address = fiscal[pk]
                address.pk, address.customer_id = None, copy.pk
                addresses.append(address)
            shared = ("email", "phone", None)[n % 3]
            if shared and shared in channels.get(pk, {}):
                new_channels.append(
                    ContactChannel(customer_id=copy.pk, type=shared, value=channels[pk][shared])
                )
        Address.objects.bulk_create(addresses, batch_size=1000)
        ContactChannel.objects.bulk_create(new_channels, batch_size=1000)
    return [(min(pk, c.pk), max(pk, c.pk)) for pk, c in zip(ids, copies, strict=True)]


def measure(url: str, planted_count: int, seed: int) -> dict[str, Any]:
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="cartera.settings", CARTERA_HTTPS="0", DEBUG="0"
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from cartera.customers.models import Customer
    from cartera.quality.models import DuplicatePair
    from cartera.quality.scan import scan_duplicates

    call_command("migrate", verbosity=0, interactive=False)
    planted = plant(planted_count, seed)
    customers = Customer.objects.current().count()
    first = scan_duplicates()
    again = scan_duplicates()
    found = set(DuplicatePair.objects.values_list("customer_a_id", "customer_b_id"))
    recalled = sum(1 for pair in planted if pair in found)
    why = Counter(
        "+".join(sorted(r["kind"] for r in reasons))
        for reasons in DuplicatePair.objects.values_list("reasons", flat=True).iterator()
    )
    connections.close_all()  # the copy can be dropped
    return {
        "customers": customers,
        "planted": len(planted),
        "recalled": recalled,
        "recall": round(recalled / len(planted), 3) if planted else None,
        "first_scan": first.as_dict(),
        "rescan": again.as_dict(),
        "reasons": dict(why.most_common()),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plant", type=int, default=500, help="known duplicates to add")
    args = parser.parse_args()
    url, remove = copy_database(args.db, args.size, args.seed)
    if remove is None:
        print(
            f"{args.db}: no bench database of {args.size:,} customers (`make bench "
            f"SIZE={args.size}` builds it); duplicate scan not measured."
        )
        return
    try:
        result = measure(url, args.plant, args.seed)
    finally:
        remove()
    result.update(db=args.db, size=args.size, seed=args.seed, target_seconds=TARGET_SECONDS)
    worst = max(result["first_scan"]["seconds"], result["rescan"]["seconds"])
    result["pass"] = worst <= TARGET_SECONDS
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"duplicates-{args.db}-{args.size}-{args.seed}.json"
    out.write_text(json.dumps(result, indent=2))
    first, again = result["first_scan"], result["rescan"]
    print(
        f"{args.db}, {result['customers']:,} customers: first scan {first['seconds']} s "
        f"({first['found']:,} pairs, {first['created']:,} new), rescan {again['seconds']} s "
        f"({again['created']} new, {again['updated']} changed); planted duplicates found "
        f"{result['recalled']}/{result['planted']}; peak memory {result['peak_memory_mb']} MB; "
        f"target {TARGET_SECONDS:.0f} s: {'PASS' if result['pass'] else 'FAIL'}. → {out}"
    )


if __name__ == "__main__":
    main()
