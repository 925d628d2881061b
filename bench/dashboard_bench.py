"""The portfolio analysis dashboard at scale: sales data on a bench database, the refresh, and
the page's server time.

    .venv/bin/python bench/dashboard_bench.py --db postgres --size 100000
    .venv/bin/python bench/dashboard_bench.py --db sqlite --size 1000000 --invoices-per-customer 5

It reuses the databases ``bench/run.py`` builds (run ``make bench SIZE=...`` first), then adds,
once, ``--invoices-per-customer`` invoices per customer over the last 24 months, open
opportunities for one customer in 50 and losses for one in 30 (table ``bench_dashboard_build``
records it). It times one refresh of the figures (the hourly job), then ``--requests``
dashboard requests as the demo's manager and as a salesperson, and the API. Target: p95 of the
page <= 500 ms. Results go to bench/results/dashboard-<db>-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

MARKER = "bench_dashboard_build"
TARGET_MS = 500.0
BATCH = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invoices-per-customer", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    from run import child_env, database_url

    os.environ.update(child_env(database_url(args.db, args.size, args.seed)))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the sales and insights tables on older builds
    built = add_sales(args.size, args.seed, args.invoices_per_customer)
    result = measure(args.requests)
    result.update(db=args.db, size=args.size, build=built)
    out = BENCH / "results" / f"dashboard-{args.db}-{args.size}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))


def add_sales(size: int, seed: int, per_customer: float) -> dict[str, Any]:
    """Invoices, opportunities and losses for the bench's customers, written once."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (info TEXT)")
        cursor.execute(f"SELECT info FROM {MARKER}")
        row = cursor.fetchone()
        if row:
            return dict(json.loads(row[0]))
    started = time.perf_counter()
    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, owner_id FROM customers_customer")
        customers = cursor.fetchall()
        cursor.execute("SELECT id FROM sales_pipelinestage ORDER BY position")
        stages = [r[0] for r in cursor.fetchall()]
    invoices = _invoices(customers, int(len(customers) * per_customer), rng)
    opportunities = _opportunities(customers, stages, rng)
    losses = _losses(customers, rng)
    # The statistics the nightly job would have refreshed (PostgreSQL: autovacuum's).
    from cartera.core.db import refresh_statistics

    if not refresh_statistics():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    info = {
        "invoices": invoices, "opportunities": opportunities, "losses": losses,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {MARKER} (info) VALUES (%s)", [json.dumps(info)])
    return info


def _insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection, transaction

    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _invoices(customers: list[tuple[int, int]], count: int, rng: random.Random) -> int:
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    now = timezone.now()
    columns = ["type", "year", "number", "code", "customer_id", "owner_id", "state",
               "issue_date", "customer_reference", "currency", "notes", "subtotal", "tax_total",
               "total", "fiscal", "created_at", "updated_at"]  # fmt: skip
    # Most customers buy now and then, a few a lot: a Pareto-like spread.
    weights = [rng.paretovariate(1.2) for _ in customers]
    chosen = rng.choices(customers, weights=weights, k=count)
    rows: list[tuple[Any, ...]] = []
    for i, (customer_id, owner_id) in enumerate(chosen):
        day = today - datetime.timedelta(days=rng.randrange(730))
        net = round(rng.lognormvariate(5.5, 1.0), 2)
        state = "cancelled" if rng.random() < 0.02 else rng.choice(["sent", "paid", "paid"])
        number = 50_000_000 + i
        rows.append(("invoice", day.year, number, f"FB-{number}", customer_id, owner_id, state,
                     day, "", "EUR", "", net, round(net * 0.21, 2), round(net * 1.21, 2), "{}",
                     now, now))  # fmt: skip
        if len(rows) == BATCH:
            _insert("sales_salesdocument", columns, rows)
            rows = []
            print(f"  {i + 1:,} invoices", end="\r", flush=True)
    if rows:
        _insert("sales_salesdocument", columns, rows)
    print()
    return count


def _opportunities(customers: list[tuple[int, int]], stages: list[int], rng: random.Random) -> int:
    from django.utils import timezone

    now = timezone.now()
    columns = ["customer_id", "title", "amount", "currency", "owner_id", "stage_id", "outcome",
               "lost_reason", "competitor", "notes", "created_at", "updated_at"]  # fmt: skip
    rows = [
        (cid, "Oportunidad", round(rng.uniform(500, 50_000), 2), "EUR", owner,
         rng.choice(stages), "open", "", "", "", now, now)
        for cid, owner in customers[::50]
    ]  # fmt: skip
    _insert("sales_opportunity", columns, rows)
    return len(rows)


def _losses(customers: list[tuple[int, int]], rng: random.Random) -> int:
    import datetime

    from django.utils import timezone

    now = timezone.now()
    reasons = ["non_payment", "unused", "competitor", "ceased", "not_interested", "other"]
    rivals = ["Competencia Global SA", "Rival Ibérica SL", "Distribuciones Norte", "Otra SL"]
    columns = ["customer_id", "field", "old_value", "new_value", "reason", "loss_reason",
               "competitor", "changed_at"]  # fmt: skip
    rows = []
    for cid, _owner in customers[::30]:
        reason = rng.choice(reasons)
        rival = rng.choice(rivals) if reason == "competitor" else ""
        when = now - datetime.timedelta(days=rng.randrange(700))
        rows.append((cid, "stage", "client", rng.choice(["lost", "former"]), "", reason, rival,
                     when))  # fmt: skip
    _insert("activities_lifecyclechange", columns, rows)
    return len(rows)


def measure(requests: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from cartera.accounts.models import Role, User
    from cartera.insights.snapshot import refresh_figures

    started = time.perf_counter()
    counts = refresh_figures()
    refresh_s = round(time.perf_counter() - started, 2)
    print(f"refresh: {refresh_s} s {counts}", flush=True)
    manager = User.objects.get(username="gerente")
    seller = User.objects.filter(role=Role.SALESPERSON, is_active=True).first()
    assert seller is not None
    scenarios: dict[str, Any] = {}
    for name, user, urls in [
        ("manager_page", manager, ["/insights/", "/insights/?months=24", "/insights/?months=3"]),
        ("salesperson_page", seller, ["/insights/", "/insights/?owner="]),
        ("manager_api", manager, ["/api/insights", "/api/insights?months=24"]),
        ("manager_csv", manager, ["/insights/export.csv?chart=owner"]),
    ]:
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        for url in urls:
            client.get(url)  # warm up
        queries: list[str] = []

        def count(execute: Any, sql: str, *args: Any, queries: list[str] = queries) -> Any:
            queries.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            response = client.get(urls[0])
        assert response.status_code == 200, response.status_code
        times = []
        for i in range(requests):
            t = time.perf_counter()
            response = client.get(urls[i % len(urls)])
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        scenarios[name] = {
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
            "max_ms": round(times[-1], 1), "queries": len(queries),
            "pass": p95 <= TARGET_MS,
        }  # fmt: skip
        print(name, scenarios[name], flush=True)
    return {"refresh_seconds": refresh_s, "refresh_rows": counts, "scenarios": scenarios}


if __name__ == "__main__":
    main()
