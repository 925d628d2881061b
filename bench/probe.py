"""Profile one request against a bench database: its SQL (each timed to the last row) and cProfile.

    .venv/bin/python bench/probe.py --size 100000 --db sqlite "/customers/?q=garcia&country=MX"
    .venv/bin/python bench/probe.py --db postgres --post '{"tax_id": "new", ...}' /api/customers

The database must have been built by ``bench/run.py`` (same size and seed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, _cif, child_env, database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--post", help="JSON body: POST instead of GET")
    parser.add_argument("--repeat", type=int, default=20, help="requests timed")
    parser.add_argument("--top", type=int, default=25, help="cProfile lines shown (0: none)")
    parser.add_argument("--explain", action="store_true", help="the plan of the slowest query")
    args = parser.parse_args()
    os.environ.update(child_env(database_url(args.db, args.size, args.seed)))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cartera.accounts.models import User

    rng, taken = random.Random(), set[str]()
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(username="gerente"))

    def call() -> int:
        if args.post:
            body = json.loads(args.post)
            if body.get("tax_id") == "new":  # a new valid CIF each time
                body["tax_id"] = _cif(rng, taken)
            response = client.post(args.url, body, content_type="application/json")
        else:
            response = client.get(args.url)
        return response.status_code

    print("status", call())
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"ms: min {times[0]:.1f} median {times[len(times) // 2]:.1f} max {times[-1]:.1f}")
    with CaptureQueriesContext(connection) as captured:
        call()
    print(f"{len(captured.captured_queries)} queries:")
    timed = []
    for query in captured.captured_queries:
        sql = query["sql"]
        ms = float(query["time"]) * 1000
        if sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                ms = (time.perf_counter() - started) * 1000
        timed.append((ms, sql))
        print(f"  {ms:7.2f} ms  {sql[:300]}")
    if args.explain and timed:
        sql = max(timed)[1]
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            print("\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall()))
    if args.top:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(5):
            call()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
