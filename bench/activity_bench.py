"""Time the purchase-activity recompute on N customers and 5×N invoices.

Usage::

    .venv/bin/python bench/activity_bench.py --size 100000 --db both
    .venv/bin/python bench/activity_bench.py --size 1000000 --db postgres

Each database is built once per size (SQLite ``bench/data/activity-<N>.sqlite3``; PostgreSQL
database ``cartera_activity_<N>`` on ``BENCH_PG_URL``): ``cartera migrate``, then customers and
invoices inserted directly in SQL (one statement each), one customer in ten in a group with its
own thresholds. The recompute then runs twice: the first run moves every customer from
``never``; the second, a day later, is the nightly job's steady state (few customers change,
every customer is still read). Targets at 1,000,000 customers / 5,000,000 invoices: 30 s on
SQLite, 15 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
TARGETS = {"sqlite": 30.0, "postgres": 15.0}  # seconds at 1,000,000 customers
TODAY = datetime.date(2026, 6, 30)
INVOICES_PER_CUSTOMER = 5


def database_url(db: str, size: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{DATA / f'activity-{size}.sqlite3'}"
    return f"{PG_SERVER}/cartera_activity_{size}"


def child_env(url: str) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="cartera.settings",
                CARTERA_HTTPS="0", DEBUG="0", LOG_LEVEL="ERROR")  # fmt: skip


def ensure_database(db: str, size: int) -> None:
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            name = f"cartera_activity_{size}"
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{name}"')
    DATA.mkdir(parents=True, exist_ok=True)
    cartera = ROOT / ".venv" / "bin" / "cartera"
    subprocess.run([str(cartera), "migrate", "--no-input", "-v", "0"], check=True,
                   env=child_env(database_url(db, size)))  # fmt: skip


# --- in the child process (Django set up on the bench database) -------------------------------


def generate(size: int) -> dict[str, float]:
    from django.db import connection, transaction

    from cartera.accounts.models import User
    from cartera.customers.models import CustomerGroup

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_activity_build (size integer)")
        cursor.execute("SELECT size FROM bench_activity_build")
        if cursor.fetchone():
            return {}
    timings: dict[str, float] = {}
    pg = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        owner = User.objects.create_user(username="bench-owner", password=None)
        group = CustomerGroup.objects.create(name="Bench", pre_inactive_days=60, inactive_days=90)
        numbers = (
            "SELECT generate_series(1, %s) AS n" if pg
            else "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq "
            "WHERE n < %s) SELECT n FROM seq"
        )  # fmt: skip
        now = "now()" if pg else "datetime('now')"
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO customers_customer (code, kind, legal_name, trade_name, first_name, "
            "last_name, tax_id, tax_id_type, tax_country, stage, status, status_reason, "
            "loss_reason, loss_detail, follow_up, owner_id, notes, payment_method, currency, "
            "language, size, custom_data, created_at, updated_at, search_text, version, group_id, "
            "sort_name) "
            f"SELECT 'B-' || n, 'organization', 'Cliente ' || n, '', '', '', '', '', 'ES', "
            f"'client', 'active', '', '', '', {'false' if pg else '0'}, %s, '', '', "
            f"'EUR', '', '', '{{}}', {now}, {now}, '', 1, "
            f"CASE WHEN n %% 10 = 0 THEN %s ELSE NULL END, 'cliente ' || n FROM ({numbers}) AS seq",
            [owner.pk, group.pk, size],
        )
        timings["customers_s"] = time.perf_counter() - started
        started = time.perf_counter()
        # Five invoices per customer, dated over the last 400 days (spread so that every status
        # occurs); amounts do not matter to the recompute.
        age = "((c.id * 7 + k.k * 13) %% 400)"
        issue = f"(%s::date - {age}::integer)" if pg else f"date(%s, '-' || {age} || ' days')"
        ks = " UNION ALL ".join(f"SELECT {k} AS k" for k in range(1, INVOICES_PER_CUSTOMER + 1))
        cursor.execute(
            "INSERT INTO sales_salesdocument (type, year, number, code, customer_id, owner_id, "
            "state, issue_date, customer_reference, currency, notes, subtotal, tax_total, total, "
            "fiscal, created_at, updated_at) "
            f"SELECT 'invoice', 2026, c.id * 10 + k.k, 'FB-' || c.id || '-' || k.k, c.id, "
            f"c.owner_id, CASE WHEN k.k = 5 AND c.id %% 50 = 0 THEN 'cancelled' ELSE 'paid' END, "
            f"{issue}, '', 'EUR', '', 100, 21, 121, '{{}}', {now}, {now} "
            f"FROM customers_customer c CROSS JOIN ({ks}) AS k WHERE c.code LIKE 'B-%%'",
            [TODAY],
        )
        timings["invoices_s"] = time.perf_counter() - started
        cursor.execute("INSERT INTO bench_activity_build (size) VALUES (%s)", [size])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return timings


def measure(size: int) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count

    from cartera.customers.models import Customer, PurchaseActivity
    from cartera.sales.activity import recompute_activity
    from cartera.sales.models import SalesDocument

    generation = generate(size)
    # Start from the state a first run finds: nobody computed yet (an empty table, not one full
    # of the rows the previous measurement deleted).
    with connection.cursor() as cursor:
        empty = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
        cursor.execute(f"{empty} {connection.ops.quote_name(PurchaseActivity._meta.db_table)}")
    runs = []
    for label, day in (("first", TODAY), ("nightly", TODAY + datetime.timedelta(days=1))):
        started = time.perf_counter()
        moved = recompute_activity(day)
        runs.append({"run": label, "seconds": round(time.perf_counter() - started, 2),
                     "moved": moved})  # fmt: skip
    statuses = PurchaseActivity.objects.values_list("activity").annotate(n=Count("pk")).order_by()
    counts = dict(statuses)
    counts["never"] = Customer.objects.with_activity("never").count()
    return {
        "db": connection.vendor,
        "customers": Customer.objects.count(),
        "invoices": SalesDocument.objects.count(),
        "generation": generation,
        "runs": runs,
        "statuses": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import django

        sys.path.insert(0, str(ROOT))
        django.setup()
        print(json.dumps(measure(args.size), default=str))
        return
    results = []
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        ensure_database(db, args.size)
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--size", str(args.size)],
            env=child_env(database_url(db, args.size)), check=True, capture_output=True,
            text=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        target = TARGETS[db] * args.size / 1_000_000
        result["target_s"] = round(target, 2)
        result["pass"] = all(run["seconds"] <= target for run in result["runs"])
        results.append(result)
        runs = ", ".join(f"{r['run']} {r['seconds']} s" for r in result["runs"])
        print(f"{db:9} {result['customers']:>9} customers {result['invoices']:>9} invoices: "
              f"{runs} (target {target:.1f} s, scaled) "
              f"{'PASS' if result['pass'] else 'FAIL'}  {result['statuses']}")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"activity-{args.size}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
