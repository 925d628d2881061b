"""A worker killed (SIGKILL) in the middle of an import: resumed, no row written twice.

The import commits chunk by chunk with the row the next chunk starts at; ``cartera import
--resume`` goes on from there. On SQLite the processes share a database file made for the
test; on PostgreSQL a database of their own, made for the test and dropped after it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from tests.conftest import PASSWORD
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row

REPO = Path(__file__).resolve().parents[2]
CARTERA = [sys.executable, "-m", "cartera.cli"]
TIMEOUT = 120.0


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[tuple[dict[str, str], Any]]:
    """The subprocesses' environment and a way to query their database."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", CARTERA_DATA_DIR=str(tmp_path / "data"),
               CARTERA_IMPORT_CHUNK="100")  # fmt: skip
    if connection.vendor != "postgresql":
        _cartera(env, "migrate", "-v0")
        path = tmp_path / "data" / "cartera.sqlite3"

        def query_file(sql: str) -> list[tuple[Any, ...]]:
            with closing(sqlite3.connect(path, timeout=20)) as db:
                return db.execute(sql).fetchall()

        yield env, query_file
        return
    import psycopg

    db = connection.settings_dict
    name = f"cartera_resume_{os.getpid()}"
    server = {"host": db["HOST"] or "localhost", "port": db["PORT"] or 5432,
              "user": db["USER"], "password": db["PASSWORD"] or None}  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    user = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env["DATABASE_URL"] = f"postgres://{user}@{server['host']}:{server['port']}/{name}"
    _cartera(env, "migrate", "-v0")

    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(dbname=name, **server) as own:
            return list(own.execute(sql).fetchall())

    try:
        yield env, query
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cartera(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*CARTERA, *args], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=TIMEOUT * 3, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_killed_import_resumes_without_duplicating_rows(
    tmp_path: Path, environment: tuple[dict[str, str], Any]
) -> None:
    # given a file of 1,500 rows (15 chunks of 100), 30 of them invalid
    env, query = environment
    _cartera(env, "createuser", "importer", "--role", "manager", "--password", PASSWORD)
    rows = [SPANISH_HEADERS] + [
        spanish_row(i, tax_id="X") if i % 50 == 0 else spanish_row(i) for i in range(1500)
    ]
    path = tmp_path / "clientes.csv"
    path.write_bytes(csv_bytes(rows, encoding="cp1252"))
    # when the import is killed once some chunks are written, and not all
    command = [*CARTERA, "import", str(path), "--user", "importer"]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + TIMEOUT
    written = 0
    while time.monotonic() < deadline and process.poll() is None:
        found = query("SELECT id, next_row FROM transfer_import WHERE status = 'running'")
        if found and found[0][1] > 300:
            written = found[0][1]
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert written, "the import ended before it could be killed"
    ((import_id, next_row),) = query("SELECT id, next_row FROM transfer_import")
    partial = query("SELECT COUNT(*) FROM customers_customer")[0][0]
    assert 0 < partial < 1470 and next_row < 1502
    # and then resumed
    _cartera(env, "import", "--resume", str(import_id))
    # then every valid row is a customer exactly once
    assert query("SELECT status, created_count, skipped_count FROM transfer_import") == [
        ("done", 1470, 30)
    ]
    assert query("SELECT COUNT(*), COUNT(DISTINCT tax_id) FROM customers_customer") == [
        (1470, 1470)
    ]
    assert query("SELECT COUNT(*) FROM transfer_importedrow") == [(1470,)]
    assert query("SELECT COUNT(*) FROM activities_timelineentry WHERE kind = 'import'") == [(1470,)]
