"""The import's benchmark: 100,000 rows of 12 columns (2% invalid) into a register of 100,000.

    make bench                                 # runs it after bench/run.py
    .venv/bin/python bench/import_bench.py --db sqlite --rows 100000

The register is the database ``bench/run.py`` builds (``--size``, default 100,000 customers),
built first when missing. Each run works on a copy (SQLite: a copy of the file; PostgreSQL: a
database made from it as a template), so the bench database stays as it was. In a fresh
process per database: the check (dry run) and the import of the generated CSV, through
``cartera.transfer.services`` as ``cartera import`` runs them, timed separately. Target: both
together in at most 10 s. Results go to ``bench/results/import-<db>-<rows>.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import run as bench  # noqa: E402 - bench/run.py builds and names the databases

TARGET_S = 10.0
HEADERS = ["Razón social", "NIF", "Teléfono", "Correo electrónico", "Dirección", "C.P.",
           "Población", "Provincia", "País", "Etapa", "Comercial", "Observaciones"]  # fmt: skip
CITIES = [("Madrid", "28", "Madrid"), ("Barcelona", "08", "Barcelona"),
          ("Valencia", "46", "Valencia"), ("Sevilla", "41", "Sevilla"),
          ("Bilbao", "48", "Vizcaya"), ("Zaragoza", "50", "Zaragoza"),
          ("Málaga", "29", "Málaga"), ("Murcia", "30", "Murcia")]  # fmt: skip
WORDS = ["Aurora", "Boreal", "Cierzo", "Dalia", "Encina", "Fresno", "Granito", "Halcón", "Iris",
         "Jara", "Lince", "Mistral", "Nogal", "Olmo", "Pino", "Quetzal", "Roble", "Sauce",
         "Tilo", "Umbría", "Vega", "Xara", "Yedra", "Zarza"]  # fmt: skip
KINDS = ["Suministros", "Talleres", "Consultores", "Transportes", "Construcciones", "Ópticas"]


SYLLABLES = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi",
             "zo", "qui", "tra", "bre", "clo", "dru", "fle", "gra", "pla", "sto"]  # fmt: skip


def invent(rng: random.Random) -> str:
    """A made-up word: names that do not look alike, as real customers' names do not."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def cif(number: int) -> str:
    """A valid CIF of a limited company; province 9x is not used by the demo register."""
    digits = f"9{number:06d}"
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    return f"B{digits}{(10 - (odd + even) % 10) % 10}"


def generate(path: Path, rows: int, seed: int) -> dict[str, int]:
    """The CSV: Spanish headers, ';' between cells, Windows-1252, 2% invalid rows."""
    rng = random.Random(seed)
    invalid = 0
    with path.open("w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADERS)
        for i in range(rows):
            city, prefix, province = CITIES[i % len(CITIES)]
            # the row number keeps two invented names from looking alike (numbers must agree)
            name = f"{rng.choice(KINDS)} {invent(rng)} {invent(rng)} {i + 1} SL"
            row = [
                name, cif(i), f"6{rng.randrange(10**7, 10**8)}",
                f"contacto{i}@import{seed}.example", f"Calle {rng.choice(WORDS)} {i % 200 + 1}",
                f"{prefix}{rng.randrange(1, 999):03d}", city, province, "España",
                rng.choice(["Lead", "Cliente", "Potencial"]), "", "Alta por importación",
            ]  # fmt: skip
            if i % 50 == 7:  # 2%: a wrong tax id check digit, or a broken e-mail
                invalid += 1
                if i % 100 == 7:
                    row[1] = row[1][:-1] + str((int(row[1][-1]) + 1) % 10)
                else:
                    row[3] = row[3].replace("@", " at ")
            writer.writerow(row)
    return {"rows": rows, "invalid": invalid}


def copy_database(db: str, size: int, seed: int, work: Path) -> str:
    source = bench.database_url(db, size, seed)
    if db == "sqlite":
        target = work / "import-bench.sqlite3"
        shutil.copyfile(source.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    name = f"cartera_import_bench_{size}"
    template = source.rsplit("/", 1)[1]
    bench.postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bench.postgres(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return f"{bench.PG_SERVER}/{name}"


def drop_database(db: str, url: str) -> None:
    if db == "postgres":
        bench.postgres(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=100_000, help="customers in the register")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of each pass here "
                        "(PATH-check.prof, PATH-import.prof)")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child), args.profile)))
        return
    bench.RESULTS.mkdir(exist_ok=True)
    bench.DATA.mkdir(exist_ok=True)
    work = bench.DATA / "import"
    work.mkdir(exist_ok=True)
    data = work / f"clientes-{args.rows}.csv"
    shape = generate(data, args.rows, args.seed)
    print(
        f"Generated {data.relative_to(ROOT)}: {shape['rows']:,} rows, {shape['invalid']} invalid."
    )
    failed = False  # a run whose rows do not add up
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        bench.build(db, args.size, args.seed, rebuild=False)
        url = copy_database(db, args.size, args.seed, work)
        try:
            env = bench.child_env(url)
            subprocess.run([str(Path(sys.executable).parent / "cartera"), "migrate", "-v0"],
                           env=env, cwd=ROOT, check=True)  # fmt: skip
            profile = ["--profile", str(args.profile.resolve())] if args.profile else []
            out = subprocess.run([sys.executable, __file__, "--child", str(data), *profile],
                                 env=env, cwd=ROOT, check=True, capture_output=True,
                                 text=True)  # fmt: skip
            result = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            drop_database(db, url)
        total = result["check_seconds"] + result["import_seconds"]
        result.update(db=db, register=args.size, file=shape, total_seconds=round(total, 2),
                      target_seconds=TARGET_S, passed=total <= TARGET_S,
                      machine=bench.machine(), load_average=[round(x, 2) for x in os.getloadavg()],
                      measured_at=time.strftime("%Y-%m-%d %H:%M:%S"))  # fmt: skip
        path = bench.RESULTS / f"import-{db}-{args.rows}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"{db}: check {result['check_seconds']} s + import {result['import_seconds']} s = "
              f"{total:.1f} s (target {TARGET_S:.0f} s) {'PASS' if total <= TARGET_S else 'FAIL'}; "
              f"processor {result['check_cpu_seconds']} s + {result['import_cpu_seconds']} s; "
              f"{result['created']:,} created, {result['skipped']:,} skipped; "
              f"peak {result['peak_rss_mb']} MB (helpers {result['helper_peak_rss_mb']} MB each) → "
              f"{path.relative_to(ROOT)}")  # fmt: skip
        # Like bench/run.py: a missed target is reported (FAIL), a broken run is an error.
        failed |= result["created"] + result["skipped"] != shape["rows"]
    if failed:
        raise SystemExit("Some rows were neither created nor skipped.")


def child(data: Path, profile: Path | None = None) -> dict[str, Any]:
    import cProfile
    import resource

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connection

    from cartera.accounts.models import User
    from cartera.customers.models import Customer
    from cartera.transfer import services
    from cartera.transfer.models import ImportStatus

    by = User.objects.get(username="gerente")
    before = Customer.objects.count()
    with data.open("rb") as stream:

        class Upload:
            size = data.stat().st_size

            def __getattr__(self, name: str) -> Any:
                return getattr(stream, name)

        batch = services.create_import(file=Upload(), name=data.name, by=by)
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    services.check_now(batch)
    check, check_cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(f"{profile}-check.prof")
        profiler = cProfile.Profile()
    assert batch.status == ImportStatus.CHECKED, batch.message
    batch.status = ImportStatus.QUEUED
    batch.save(update_fields=["status"])
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    services.run_now(batch)
    run, run_cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(f"{profile}-import.prof")
    return {
        "vendor": connection.vendor,
        "check_seconds": round(check, 2),
        "import_seconds": round(run, 2),
        # The import's own process (on SQLite the database's work too), without its helpers:
        # steadier than the wall time on a machine doing other work.
        "check_cpu_seconds": round(check_cpu, 2),
        "import_cpu_seconds": round(run_cpu, 2),
        "rows": batch.total_rows,
        "valid": batch.valid_rows,
        "invalid": batch.invalid_rows,
        "duplicates": batch.duplicate_rows,
        "created": batch.created_count,
        "skipped": batch.skipped_count,
        "register_after": Customer.objects.count(),
        "register_before": before,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # The largest helper process that validated rows for the check (0: none ran).
        "helper_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


if __name__ == "__main__":
    main()
