"""Backups: one ``.tar.gz`` with a manifest, the database dump and the uploaded files.

Layout of an archive::

    manifest.json        format, versions, vendor, applied migrations, rows per table
    database.sqlite3     SQLite: a page copy made with the online backup API
    database.pgdump      PostgreSQL: ``pg_dump --format=custom``
    media/...            everything under MEDIA_ROOT
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MEDIA_DIR = "media"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Rows in these tables mean the database is in use, so replacing it needs a --yes.
MAIN_MODELS = ("accounts.User", "customers.Customer")
# Connection settings libpq reads from the environment, so no secret is on a command line.
PG_ENV = {
    "NAME": "PGDATABASE",
    "USER": "PGUSER",
    "PASSWORD": "PGPASSWORD",
    "HOST": "PGHOST",
    "PORT": "PGPORT",
}
PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is meant for the operator."""


@dataclass(frozen=True)
class Manifest:
    """What an archive holds, written first so it can be checked before anything changes."""

    format: int
    created_at: str
    cartera_version: str | None
    vendor: str
    database: str
    migrations: list[tuple[str, str]]
    tables: dict[str, int]
    media_files: int
    media_bytes: int

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse and type-check a manifest, refusing anything malformed."""
        try:
            data = json.loads(raw)
            manifest = cls(
                format=int(data["format"]),
                created_at=str(data["created_at"]),
                cartera_version=data.get("cartera_version"),
                vendor=str(data["vendor"]),
                database=str(data["database"]),
                migrations=[(str(app), str(name)) for app, name in data["migrations"]],
                tables={str(table): int(rows) for table, rows in data["tables"].items()},
                media_files=int(data["media_files"]),
                media_bytes=int(data["media_bytes"]),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise BackupError(f"The archive's {MANIFEST_NAME} is damaged ({exc!r}).") from exc
        if manifest.format > FORMAT_VERSION:
            raise BackupError(
                f"The archive uses backup format {manifest.format}; this Cartera reads up to "
                f"format {FORMAT_VERSION}. Upgrade Cartera to restore it."
            )
        return manifest

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: Manifest


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    counts: dict[str, int]
    media_files: int
    # Migrations this code has that the restored database lacks: run `cartera migrate`.
    pending_migrations: list[tuple[str, str]]


# --- Backup ---------------------------------------------------------------------------


def default_backup_path() -> Path:
    """``<DATA_DIR>/backups/cartera-YYYYmmdd-HHMMSS.tar.gz`` in the configured time zone."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"cartera-{stamp}.tar.gz"


def create_backup(path: Path | None = None, *, using: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write an archive of the database and the uploaded files; readable by the owner only."""
    connection = connections[using]
    dump_name = _dump_name(connection)
    target = _archive_path(path)
    media_root = Path(settings.MEDIA_ROOT).resolve()
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".cartera-backup-") as scratch:
            dump = Path(scratch) / dump_name
            migrations, tables = _dump_database(connection, dump)
            skip = (Path(scratch), _partial_path(target))
            media = list(_media_files(media_root, skip=skip))
            manifest = Manifest(
                format=FORMAT_VERSION,
                created_at=timezone.now().isoformat(timespec="seconds"),
                cartera_version=_cartera_version(),
                vendor=connection.vendor,
                database=dump_name,
                migrations=migrations,
                tables=tables,
                media_files=len(media),
                media_bytes=sum(file.stat().st_size for file in media),
            )
            _write_archive(target, manifest, dump, media, media_root)
    except OSError as exc:
        raise BackupError(f"Cannot write {target}: {exc}.") from exc
    return BackupResult(path=target, size=target.stat().st_size, manifest=manifest)


def _write_archive(
    target: Path, manifest: Manifest, dump: Path, media: list[Path], media_root: Path
) -> None:
    """Write under a temporary name, so a failed backup never looks like a finished one."""
    partial = _partial_path(target)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise BackupError(f"{partial} exists: another backup is running, or remove it.") from exc
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
        ):
            _add_bytes(tar, MANIFEST_NAME, manifest.to_json())
            tar.add(dump, arcname=manifest.database, filter=_owner_only)
            for file in media:
                arcname = PurePosixPath(MEDIA_DIR) / file.relative_to(media_root)
                tar.add(file, arcname=arcname.as_posix(), recursive=False)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _partial_path(target: Path) -> Path:
    return target.with_name(target.name + ".partial")


def _archive_path(path: Path | None) -> Path:
    """The archive to write: a new file, or a timestamped one inside a given directory."""
    if path is None:
        target = default_backup_path()
    elif path.is_dir():
        target = path / default_backup_path().name
    else:
        target = path
    target = target.expanduser().resolve()
    if target.exists():
        raise BackupError(f"{target} already exists; choose another name.")
    try:
        # Backups hold every customer's personal data: private directory, private file.
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"Cannot create {target.parent}: {exc.strerror}.") from exc
    return target


def _dump_database(
    connection: BaseDatabaseWrapper, dump: Path
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Write the dump and return the migrations and row counts of that very snapshot."""
    if connection.vendor == "sqlite":
        return _dump_sqlite(connection, dump)
    return _dump_postgresql(connection, dump)


def _dump_sqlite(
    connection: BaseDatabaseWrapper, dump: Path
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    # Copying from Django's own connection works for file and in-memory databases alike.
    connection.ensure_connection()
    try:
        with closing(sqlite3.connect(dump)) as copy:
            # One step (the default) copies a consistent snapshot while the app keeps writing.
            connection.connection.backup(copy)
            # The archived file must stand alone, without a -wal file beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
            cursor = copy.cursor()
            existing = {
                row[0]
                for row in cursor.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            return _database_state(cursor, existing, connection)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy the database: {exc}.") from exc


def _dump_postgresql(
    connection: BaseDatabaseWrapper, dump: Path
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    if connection.in_atomic_block:
        raise BackupError("A backup cannot run inside a database transaction.")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # pg_dump joins this transaction's snapshot, so the counts describe exactly the dump.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        existing = set(connection.introspection.table_names(cursor))
        state = _database_state(cursor, existing, connection)
        _run_pg_tool(
            connection,
            "pg_dump",
            [
                "--format=custom",
                "--compress=0",  # the archive is gzipped as a whole
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={dump}",
            ],
        )
    return state


def _media_files(root: Path, *, skip: tuple[Path, ...]) -> Iterator[Path]:
    """Regular files under MEDIA_ROOT in a stable order; links are not followed."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            file = Path(folder) / name
            if file.is_symlink() or not file.is_file():
                continue
            # An archive written inside MEDIA_ROOT must not swallow its own scratch files.
            if any(file.is_relative_to(place) for place in skip):
                continue
            yield file


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = 0o600
    return info


def _cartera_version() -> str | None:
    try:
        return metadata.version("cartera")
    except metadata.PackageNotFoundError:
        return None


# --- Restore ----------------------------------------------------------------------------


def restore_backup(
    path: Path, *, confirm: bool = False, using: str = DEFAULT_DB_ALIAS
) -> RestoreResult:
    """Replace the database and the uploaded files with an archive's, then check the counts."""
    connection = connections[using]
    media_root = Path(settings.MEDIA_ROOT).resolve()
    with _open_archive(path) as tar:
        manifest = _checked_manifest(tar)
        _check_compatible(manifest, connection)
        _check_media_root(media_root, connection)
        if not confirm and (in_use := main_table_counts(connection)):
            held = ", ".join(f"{rows} rows in {table}" for table, rows in in_use.items())
            raise BackupError(
                f"The database already holds data ({held}). A restore replaces all of it: "
                "run again with --yes to confirm."
            )
        media_root.parent.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="cartera-restore-") as scratch,
            # Next to MEDIA_ROOT, so moving the files in is a rename on the same disk.
            tempfile.TemporaryDirectory(dir=media_root.parent, prefix=".cartera-media-") as staged,
        ):
            dump = Path(scratch) / manifest.database
            # Everything is unpacked before the first change, so a damaged archive changes nothing.
            media_files = _unpack(tar, manifest, dump=dump, media=Path(staged))
            _restore_database(connection, dump)
            _replace_media(Path(staged) / MEDIA_DIR, media_root)
    try:
        counts = _live_counts(connection, manifest.tables)
    except DatabaseError as exc:
        raise BackupError(f"The restored database cannot be read: {exc}.") from exc
    wrong = [
        f"{table}: {rows} rows, expected {manifest.tables[table]}"
        for table, rows in counts.items()
        if rows != manifest.tables[table]
    ]
    if wrong:
        raise BackupError(f"The restored database does not match the backup ({', '.join(wrong)}).")
    return RestoreResult(
        manifest=manifest,
        counts=counts,
        media_files=media_files,
        pending_migrations=_pending_migrations(connection),
    )


def main_table_counts(connection: BaseDatabaseWrapper) -> dict[str, int]:
    """Rows in the tables that show the database is in use (users, customers); empty if none."""
    existing = set(connection.introspection.table_names())
    tables = []
    for label in MAIN_MODELS:
        try:
            tables.append(apps.get_model(label)._meta.db_table)
        except LookupError:
            continue
    counts = _live_counts(connection, {t: 0 for t in tables if t in existing})
    return {table: rows for table, rows in counts.items() if rows}


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    try:
        return tarfile.open(path, mode="r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a readable Cartera backup ({exc}).") from exc


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """Turn the errors of a damaged or truncated archive into one clear message."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(
            f"Cannot read {what} from the archive ({exc}); nothing was changed."
        ) from exc


def _checked_manifest(tar: tarfile.TarFile) -> Manifest:
    """Refuse unsafe or unexpected members, then parse the manifest."""
    with _reading("the list of files"):
        members = tar.getmembers()
    for member in members:
        _check_member(member)
    names = {member.name for member in members}
    if MANIFEST_NAME not in names:
        raise BackupError(f"The archive has no {MANIFEST_NAME}: it is not a Cartera backup.")
    with _reading(MANIFEST_NAME):
        source = tar.extractfile(MANIFEST_NAME)
        raw = source.read() if source else b""
    manifest = Manifest.from_json(raw)
    if manifest.database not in DUMP_NAMES.values() or manifest.database not in names:
        raise BackupError(f"The archive lacks the database dump {manifest.database!r}.")
    return manifest


def _unpack(tar: tarfile.TarFile, manifest: Manifest, *, dump: Path, media: Path) -> int:
    """Extract the dump to ``dump`` and the uploaded files under ``media``; count the files."""
    with _reading("the database dump"):
        source = tar.extractfile(manifest.database)
        if source is None:
            raise BackupError(f"The archive's {manifest.database} is not a regular file.")
        with source, dump.open("wb") as out:
            shutil.copyfileobj(source, out)
    members = [m for m in tar.getmembers() if m.name.startswith(f"{MEDIA_DIR}/")]
    with _reading("the uploaded files"):
        # The "data" filter is a second guard behind _check_member.
        tar.extractall(media, members=members, filter="data")
    files = sum(1 for m in members if m.isfile())
    if files != manifest.media_files:
        raise BackupError(
            f"The archive holds {files} uploaded files but its manifest says "
            f"{manifest.media_files}; nothing was changed."
        )
    return files


def _check_member(member: tarfile.TarInfo) -> None:
    """Only plain files and folders at expected places: no escapes, links or devices."""
    name = member.name
    parts = PurePosixPath(name).parts
    unsafe = name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir())
    expected = name in (MANIFEST_NAME, *DUMP_NAMES.values()) or (
        parts[:1] == (MEDIA_DIR,) and (len(parts) > 1 or member.isdir())
    )
    if unsafe or not expected:
        raise BackupError(
            f"Refusing the archive: member {name!r} is unsafe or unexpected. "
            "It was not made by `cartera backup` or has been altered; nothing was changed."
        )


def _check_compatible(manifest: Manifest, connection: BaseDatabaseWrapper) -> None:
    """Same database vendor, and no migrations newer than this code knows."""
    if manifest.vendor != connection.vendor:
        raise BackupError(
            f"This backup is of a {manifest.vendor} database but Cartera is configured for "
            f"{connection.vendor}. Restore it with DATABASE_URL pointing to {manifest.vendor}, "
            "then move the data across if needed."
        )
    if manifest.database != DUMP_NAMES.get(connection.vendor):
        raise BackupError(f"A {connection.vendor} backup cannot hold {manifest.database!r}.")
    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = [
        f"{app}.{name}"
        for app, name in manifest.migrations
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations
    ]
    if unknown:
        version = manifest.cartera_version or "a newer version"
        raise BackupError(
            f"This backup was made by Cartera {version}, which has migrations this one lacks "
            f"({', '.join(unknown[:5])}). Install that version or newer, then restore."
        )


def _check_media_root(media_root: Path, connection: BaseDatabaseWrapper) -> None:
    """Refuse a MEDIA_ROOT whose replacement would also wipe the database or the data dir."""
    data_dir = Path(settings.DATA_DIR).resolve()
    guarded = [data_dir, Path.home().resolve()]
    if live := _sqlite_file(connection):
        guarded.append(live.resolve())
    if media_root == Path(media_root.anchor) or any(
        place.is_relative_to(media_root) for place in guarded
    ):
        raise BackupError(
            f"MEDIA_ROOT is {media_root}, which contains the database or the data directory; "
            "restoring uploaded files there would delete them. Point MEDIA_ROOT elsewhere."
        )


def _restore_database(connection: BaseDatabaseWrapper, dump: Path) -> None:
    # Other connections hold no locks and keep no stale caches once closed.
    connections.close_all()
    if connection.vendor == "sqlite":
        _restore_sqlite(connection, dump)
    else:
        _run_pg_tool(
            connection,
            "pg_restore",
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={connection.settings_dict['NAME']}",
                str(dump),
            ],
        )
        connection.close()


def _restore_sqlite(connection: BaseDatabaseWrapper, dump: Path) -> None:
    live = _sqlite_file(connection)
    if live and not live.exists():
        # A -wal left by a deleted database would be replayed into the new one.
        for suffix in ("-wal", "-shm"):
            live.with_name(live.name + suffix).unlink(missing_ok=True)
    # Writing through the live connection keeps SQLite's own locking and WAL in charge, so
    # no file is swapped under a process that has the database open.
    connection.ensure_connection()
    live_connection = connection.connection
    try:
        with closing(sqlite3.connect(dump)) as source:
            source.backup(live_connection)
        # Fold the restored pages into the database file, leaving an empty -wal.
        live_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not restore the database: {exc}.") from exc


def _replace_media(staged: Path, media_root: Path) -> None:
    """Swap MEDIA_ROOT's contents for the staged files (MEDIA_ROOT itself may be a mount)."""
    media_root.mkdir(parents=True, exist_ok=True)
    for entry in media_root.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if staged.is_dir():
        for entry in staged.iterdir():
            shutil.move(entry, media_root / entry.name)


def _pending_migrations(connection: BaseDatabaseWrapper) -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [(migration.app_label, migration.name) for migration, _backwards in plan]


# --- Shared -------------------------------------------------------------------------------


def _sqlite_file(connection: BaseDatabaseWrapper) -> Path | None:
    """The SQLite database file, or None for PostgreSQL and in-memory databases."""
    if isinstance(connection, SQLiteDatabaseWrapper) and not connection.is_in_memory_db():
        return Path(str(connection.settings_dict["NAME"]))
    return None


def _dump_name(connection: BaseDatabaseWrapper) -> str:
    try:
        return DUMP_NAMES[connection.vendor]
    except KeyError as exc:
        raise BackupError(
            f"Backups support SQLite and PostgreSQL, not {connection.vendor}."
        ) from exc


def _database_state(
    cursor: Any, existing: set[str], connection: BaseDatabaseWrapper
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Applied migrations and rows per Django table, read through ``cursor``."""
    tables = set(connection.introspection.django_table_names(include_views=False))
    tables.add("django_migrations")
    migrations: list[tuple[str, str]] = []
    if "django_migrations" in existing:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        migrations = [(app, name) for app, name in cursor.fetchall()]
    return migrations, _count_rows(cursor, sorted(tables & existing))


def _live_counts(connection: BaseDatabaseWrapper, tables: dict[str, int]) -> dict[str, int]:
    with connection.cursor() as cursor:
        return _count_rows(cursor, sorted(tables))


def _count_rows(cursor: Any, tables: Sequence[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        # Table names come from Django's models or the manifest, and are quoted.
        cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _run_pg_tool(connection: BaseDatabaseWrapper, tool: str, args: list[str]) -> None:
    """Run pg_dump/pg_restore with the connection settings passed through the environment."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} is not installed or not on PATH. Install the PostgreSQL client tools of "
            "the server's major version (e.g. postgresql-client-15)."
        )
    env = dict(os.environ)
    settings_dict = connection.settings_dict
    for key, variable in PG_ENV.items():
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    for option, variable in PG_OPTION_ENV.items():
        if settings_dict.get("OPTIONS", {}).get(option) is not None:
            env[variable] = str(settings_dict["OPTIONS"][option])
    # The arguments are built here from settings, never from a shell string.
    result = subprocess.run(  # noqa: S603
        [executable, *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{tool} failed: {message}")
