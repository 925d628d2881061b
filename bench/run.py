"""Cartera's benchmark: a database of N customers on SQLite and PostgreSQL, timed through Django.

    make bench                         # 1,000,000 customers, both databases
    make bench SIZE=100000             # a quicker check
    .venv/bin/python bench/run.py --db sqlite --size 100000 --requests 100

Each database is built once per (size, seed) and reused: ``cartera migrate``, ``cartera demo
--customers N --seed S`` (the bulk loader), then a few "rich" customers through the services (5
channels, 3 addresses, 5 contacts each) for the ficha. A marker table written last says the
build finished; a half-built database is built again. Every measurement runs in a fresh process
per database, through Django's test client as a logged-in sales manager. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
RESULTS = BENCH / "results"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
MARKER = "bench_build"  # table written when the build finished
TARGETS_MS = {"list": 100.0, "browse": 100.0, "api_list": 50.0, "ficha": 50.0, "api_create": 30.0}
SCENARIOS = {
    "list": "GET /customers/?q=<term>&<filter>",
    "browse": "GET /customers/?<filter>&<sort>",
    "api_list": "GET /api/customers?search=<term>",
    "ficha": "GET /customers/<rich id>/",
    "api_create": "POST /api/customers",
}
FILTERS = ["stage=client", "country=MX", "stage=lead", "status=active", "country=ES",
           "stage=prospect", "country=AR", "follow_up=true"]  # fmt: skip
# The list without a search term: the first page in each sort order, filtered or not.
BROWSE = ["", "country=ES", "sort=-created", "status=active&sort=-updated", "activity=inactive",
          "stage=client&sort=-name", "country=MX&sort=created", "follow_up=true&sort=updated",
          "activity=never", "archived=on"]  # fmt: skip
COMMON_SURNAMES = ["garcia", "munoz", "rodriguez", "gonzalez", "lopez", "martinez",
                   "hernandez", "perez", "sanchez", "ramirez", "torres", "flores"]  # fmt: skip
RICH_CUSTOMERS = 10


# --- the parent: build, measure, report ------------------------------------------------------


def database_url(db: str, size: int, seed: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{DATA / f'cartera-{size}-{seed}.sqlite3'}"
    return f"{PG_SERVER}/cartera_bench_{size}_{seed}"


def child_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="cartera.settings",
        CARTERA_HTTPS="0",
        DEBUG="0",
        LOG_LEVEL="ERROR",
        CARTERA_API_RATE="1000000/minute",  # the bench is one user firing hundreds of requests
    )
    return env


def run_child(task: str, url: str, **options: Any) -> Any:
    """Run a task of this script in a fresh Python process on the database at ``url``."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = [sys.executable, __file__, "--child", task, "--out", out.name,
                "--options", json.dumps(options)]  # fmt: skip
        subprocess.run(args, env=child_env(url), cwd=ROOT, check=True)
        return json.loads(Path(out.name).read_text() or "null")


def cartera(args: list[str], url: str, log: Path) -> dict[str, Any]:
    """Run ``cartera <args>`` and return its wall and CPU time and peak memory (with children)."""
    started = time.perf_counter()
    with log.open("a") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "cartera"), *args],
            env=child_env(url),
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"cartera {' '.join(args)} failed; see {log}")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        # The largest of the command and the generator process it waited for.
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def build(db: str, size: int, seed: int, *, rebuild: bool) -> dict[str, Any]:
    """The database of ``size`` customers: reused when complete, else built from scratch."""
    url = database_url(db, size, seed)
    if not rebuild:
        info = run_child("status", url, size=size, seed=seed)
        if info:
            print(f"{db}: reusing the database of {size:,} customers (seed {seed}).")
            # Migrations added since the build (data migrations included) are applied first.
            cartera(["migrate", "--noinput", "-v0"], url, DATA / f"build-{db}-{size}-{seed}.log")
            return dict(info)
    print(f"{db}: building a database of {size:,} customers (seed {seed})…", flush=True)
    DATA.mkdir(exist_ok=True)
    if db == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = url.rsplit("/", 1)[1]
        postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        postgres(f'CREATE DATABASE "{name}"')
    log = DATA / f"build-{db}-{size}-{seed}.log"
    log.write_text("")
    cartera(["migrate", "--noinput", "-v0"], url, log)
    generation = cartera(["demo", "--customers", str(size), "--seed", str(seed)], url, log)
    # The demo's last line, in the site's language: "Tiempo total: 9,3 s (generate 2,0 s; …)".
    if phases := re.search(r": [\d.,]+ s \(([^)]*)\)", log.read_text()):
        generation["phases"] = {
            name: float(seconds.replace(",", "."))
            for name, seconds in re.findall(r"([a-z]+) ([\d,.]+) s", phases[1])
        }
    print(f"{db}: generated in {generation['seconds']} s, peak {generation['peak_rss_mb']} MB.")
    return dict(run_child("enrich", url, size=size, seed=seed, generation=generation))


def table(runs: dict[str, dict[str, Any]], size: int) -> str:
    lines = [
        f"Cartera bench · {size:,} customers",
        "",
        f"{'db':<9}{'scenario':<36}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'cpu p95':>8}"
        f"{'queries':>9}{'target':>8}  result",
    ]
    for db, run in runs.items():
        for name, s in run["scenarios"].items():
            lines.append(
                f"{db:<9}{SCENARIOS[name]:<36}{s['p50_ms']:>8.1f}{s['p95_ms']:>8.1f}"
                f"{s['max_ms']:>8.1f}{s.get('cpu_p95_ms', 0):>8.1f}{s['queries']:>9}"
                f"{s['target_p95_ms']:>8.0f}  "
                f"{'PASS' if s['pass'] else 'FAIL'}"
            )
    lines.append("")
    for db, run in runs.items():
        g = run["build"]["generation"]
        lines.append(
            f"{db}: generation {g['seconds']} s (CPU {g['cpu_seconds']} s, target 180 s), peak "
            f"{g['peak_rss_mb']} MB (target < 1024) · measuring process peak "
            f"{run['peak_rss_mb']} MB · load average {run['load_average']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each slowest query")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, Path(args.out), json.loads(args.options))

    RESULTS.mkdir(exist_ok=True)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    runs: dict[str, dict[str, Any]] = {}
    for db in databases:
        info = build(db, args.size, args.seed, rebuild=args.rebuild)
        print(f"{db}: measuring {args.requests} requests per scenario…", flush=True)
        run = run_child(
            "measure",
            database_url(db, args.size, args.seed),
            requests=args.requests,
            warmup=args.warmup,
            explain=args.explain,
            size=args.size,
            seed=args.seed,
        )
        run.update(db=db, size=args.size, seed=args.seed, build=info, machine=machine())
        runs[db] = run
        path = RESULTS / f"{db}-{args.size}-{args.seed}.json"
        path.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    latest = {"size": args.size, "seed": args.seed, "runs": runs}
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2, ensure_ascii=False) + "\n")
    print()
    print(table(runs, args.size))
    print(f"\nResults: {RESULTS.relative_to(ROOT)}/latest.json")
    expected = args.warmup + args.requests + 1  # every create answered 201 and wrote a row
    broken = {db: run["failures"] for db, run in runs.items() if run["failures"]}
    broken |= {
        db: [f"{run['created_rows']} customers created, {expected} expected"]
        for db, run in runs.items()
        if run["created_rows"] != expected
    }
    if broken:
        raise SystemExit(f"Requests failed: {broken}")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "disk_free_gb": round(shutil.disk_usage(DATA).free / 1e9),
    }


# --- the children: Django is set up from the environment the parent chose -------------------


def child(task: str, out: Path, options: dict[str, Any]) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result = {"status": task_status, "enrich": task_enrich, "measure": task_measure}[task](
        **options
    )
    out.write_text(json.dumps(result, ensure_ascii=False, default=str))


def task_status(size: int, seed: int) -> dict[str, Any] | None:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            sql = f"SELECT info FROM {MARKER} WHERE size = %s AND seed = %s"
            cursor.execute(sql, [size, seed])
            row = cursor.fetchone()
    except Exception:  # no database, or no marker table: not built
        return None
    return json.loads(row[0]) if row else None


def _cif(rng: random.Random, taken: set[str]) -> str:
    """A new valid CIF of a limited company, unused in the database (province 42: no demo city)."""
    from stdnum.es import cif

    from cartera.customers.models import Customer

    while True:
        body = f"B42{rng.randrange(100_000):05d}"
        number = body + cif.calc_check_digits(body)[0]
        if number not in taken and not Customer.objects.filter(tax_id=number).exists():
            taken.add(number)
            return number


def _rich_data(rng: random.Random, number: int, taken: set[str]) -> dict[str, Any]:
    """A client with 5 channels, 3 addresses and 5 contacts."""
    from cartera.customers.models import FiscalType

    def address(kind: str, street: str) -> dict[str, Any]:
        return {"type": kind, "street": street, "exterior_number": str(rng.randint(1, 200)),
                "postal_code": f"280{rng.randint(1, 55):02d}", "municipality": "Madrid",
                "country": "ES"}  # fmt: skip

    return {
        "kind": "organization",
        "fiscal_type": FiscalType.objects.get(code="sociedad_mercantil"),
        "legal_name": f"Distribuciones Ficha Completa {number} SL",
        "trade_name": f"Ficha {number}",
        "tax_country": "ES",
        "tax_id": _cif(rng, taken),
        "stage": "client",
        "notes": "Cliente de referencia del benchmark: ficha completa.",
        "channels": [
            {"type": "phone", "value": f"+34 91{rng.randint(1_000_000, 9_999_999)}"},
            {"type": "phone", "value": f"+34 6{rng.randint(10_000_000, 99_999_999)}"},
            {"type": "email", "value": f"info@ficha{number}.example", "label": "general"},
            {"type": "email", "value": f"facturas@ficha{number}.example", "label": "billing"},
            {"type": "website", "value": f"https://www.ficha{number}.example"},
        ],
        "addresses": [
            address("fiscal", "Calle de Alcalá"),
            address("shipping", "Calle de Atocha"),
            address("shipping", "Paseo de la Castellana"),
        ],
        "contacts": [
            {
                "first_name": first,
                "last_name": f"{last} Ficha",
                "role": "Compras",
                "email": f"{first.lower()}@ficha{number}.example",
                "mobile": f"+34 6{rng.randint(10_000_000, 99_999_999)}",
                "is_primary": i == 0,
            }
            for i, (first, last) in enumerate(
                [
                    ("Lucia", "Gomez"),
                    ("Mario", "Ruiz"),
                    ("Ana", "Vidal"),
                    ("Pablo", "Serra"),
                    ("Irene", "Moya"),
                ]
            )
        ],
    }


def task_enrich(size: int, seed: int, generation: dict[str, Any]) -> dict[str, Any]:
    """Add the rich customers through the services, then the marker: the build is complete."""
    from django.db import connection

    from cartera.accounts.models import User
    from cartera.customers import services

    manager = User.objects.get(username="gerente")
    rng, taken = random.Random(seed), set[str]()
    rich = [
        services.create_customer(data=_rich_data(rng, i, taken), by=manager).pk
        for i in range(RICH_CUSTOMERS)
    ]
    info = {"size": size, "seed": seed, "generation": generation, "rich_ids": rich,
            "built_at": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (size int, seed int, info text)")
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, %s)", [size, seed, json.dumps(info)])
    return info


def _terms(rng: random.Random) -> list[str]:
    """What people type in the search box, taken from the data: surnames, company words,
    phone and tax id fragments."""
    from django.db.models import Max

    from cartera.core.text import fold
    from cartera.customers.models import ContactChannel, Customer

    top = Customer.objects.aggregate(top=Max("id"))["top"] or 1
    ids = [rng.randint(1, top) for _ in range(400)]
    fields = ("kind", "last_name", "legal_name", "tax_id")
    rows = Customer.objects.filter(id__in=ids).values_list(*fields)
    surnames, words, tax_ids = [], [], []
    for kind, last_name, legal_name, tax_id in rows:
        if kind == "person" and last_name:
            surnames.append(fold(last_name.split()[0]))
        else:
            words += [fold(w) for w in legal_name.split() if len(w) >= 6 and w.isalpha()]
        if tax_id:
            tax_ids.append(tax_id[: rng.randint(6, 8)].lower())
    phones = ContactChannel.objects.filter(customer_id__in=ids, type="phone")
    digits = [value[-rng.randint(6, 8) :] for value in phones.values_list("value", flat=True)]
    pools = [COMMON_SURNAMES, surnames, words, digits, tax_ids]
    weights = [25, 25, 20, 15, 15]
    return [rng.choice(rng.choices(pools, weights)[0]) for _ in range(1000)]


def _measure(call: Any, count: int, cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds of each call; with ``cpu``, this process's CPU milliseconds too."""
    times = []
    for i in range(count):
        started, used = time.perf_counter(), time.process_time()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - used) * 1000)
    return times


def task_measure(requests: int, warmup: int, explain: bool, size: int, seed: int) -> dict[str, Any]:
    """Time each scenario: ``warmup`` untimed requests, one with its queries captured, then
    ``requests`` timed ones, each with other inputs."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cartera.accounts.models import User
    from cartera.customers.models import Customer

    info = task_status(size, seed) or {}
    rng = random.Random(seed)
    terms = _terms(rng)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(username="gerente"))
    rich, taken, created, failures = info["rich_ids"], set[str](), [], []

    def check(response: Any, status: int) -> Any:
        if response.status_code != status:
            failures.append(f"{response.status_code} {response.request['PATH_INFO']}")
        return response

    def new_customer(i: int) -> dict[str, Any]:
        return {
            "kind": "organization", "fiscal_type": "sociedad_mercantil",
            "legal_name": f"Suministros Bench {rng.randrange(10**9)} SL", "tax_country": "ES",
            "tax_id": _cif(rng, taken), "stage": "client",
            "channels": [{"type": "phone", "value": f"+34 6{rng.randint(10**7, 10**8 - 1)}"},
                         {"type": "email", "value": f"info@bench{i}.example"}],
            "addresses": [{"type": "fiscal", "street": "Calle Mayor", "exterior_number": "1",
                           "postal_code": "28013", "municipality": "Madrid", "country": "ES"}],
        }  # fmt: skip

    def page(i: int) -> None:
        term, where = terms[i % len(terms)], FILTERS[i % len(FILTERS)]
        check(client.get(f"/customers/?q={quote(term)}&{where}"), 200)

    def browse(i: int) -> None:
        check(client.get(f"/customers/?{BROWSE[i % len(BROWSE)]}"), 200)

    def api_page(i: int) -> None:
        check(client.get(f"/api/customers?search={quote(terms[(i * 7) % len(terms)])}"), 200)

    def ficha(i: int) -> None:
        check(client.get(f"/customers/{rich[i % len(rich)]}/"), 200)

    payloads: list[dict[str, Any]] = []

    def create(i: int) -> None:
        body = payloads[i]
        response = check(client.post("/api/customers", body, content_type="application/json"), 201)
        if response.status_code == 201:
            created.append(response.json()["id"])

    calls = {"list": page, "browse": browse, "api_list": api_page, "ficha": ficha,
             "api_create": create}  # fmt: skip
    scenarios: dict[str, Any] = {}
    before = Customer.objects.count()
    for name, call in calls.items():
        if name == "api_create":  # new CIFs are looked up before the clock starts
            payloads += [new_customer(i) for i in range(warmup + requests + 1)]
        _measure(call, warmup)
        with CaptureQueriesContext(connection) as captured:
            call(warmup)
        queries = captured.captured_queries  # now: the next request clears the log
        cpu: list[float] = []
        times = _measure(lambda i, c=call: c(warmup + 1 + i), requests, cpu)  # type: ignore[misc]
        slowest = _slowest(queries)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        scenarios[name] = {
            "request": SCENARIOS[name],
            "n": len(times),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(p95, 2),
            "max_ms": round(max(times), 2),
            "mean_ms": round(statistics.fmean(times), 2),
            # CPU of the measuring process (Django, and SQLite's own work; not PostgreSQL's
            # server): what the request costs whatever else the machine is doing.
            "cpu_p50_ms": round(statistics.median(cpu), 2),
            "cpu_p95_ms": round(statistics.quantiles(cpu, n=20)[-1] if len(cpu) > 1 else cpu[0], 2),
            "queries": len(queries),
            "target_p95_ms": TARGETS_MS[name],
            "pass": p95 <= TARGETS_MS[name],
            "slowest_query": slowest,
        }
        if explain and slowest:
            scenarios[name]["explain"] = _explain(slowest["sql"])
    created_rows = Customer.objects.count() - before
    Customer.objects.filter(pk__in=created).delete()  # keep the database as it was built
    return {
        "scenarios": scenarios,
        "created_rows": created_rows,
        "failures": failures[:20],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "vendor": connection.vendor,
        "server_version": _server_version(connection),
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _slowest(queries: list[dict[str, str]]) -> dict[str, Any] | None:
    """The captured SELECT that takes longest when run again to its last row.

    Django times ``execute`` only, and SQLite does most of its work while rows are fetched.
    """
    from django.db import connection

    timed = []
    for query in queries:
        if not query["sql"].lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(query["sql"])
            cursor.fetchall()
            timed.append(((time.perf_counter() - started) * 1000, query["sql"]))
    if not timed:
        return None
    ms, sql = max(timed)
    return {"ms": round(ms, 2), "sql": sql}


def _server_version(connection: Any) -> str:
    with connection.cursor() as cursor:
        sqlite = connection.vendor == "sqlite"
        cursor.execute("SELECT sqlite_version()" if sqlite else "SHOW server_version")
        return str(cursor.fetchone()[0])


def _explain(sql: str) -> str:
    from django.db import connection

    sqlite = connection.vendor == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


if __name__ == "__main__":
    main()
