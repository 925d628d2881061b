"""``cartera backup`` and ``cartera restore``: round trips that compare every row and file."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import tarfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cartera.accounts.models import ApiToken, User
from cartera.customers import services
from cartera.customers.models import ContactChannel, Customer, Tag
from tests.conftest import make_customer, make_lead, valid_cif

# The dump must see committed data, so these tests commit. The rows the migrations seed
# (fiscal types...), which the flush after each of them removes, are put back before each by
# ``seeded_rows_in_transactional_tests``; loading them again with ``serialized_rollback``
# clashed with the content types the flush of an earlier transactional test had written.
committed_db = pytest.mark.django_db(transaction=True)

CONTRACT = b"%PDF-1.4 contrato firmado \x00\xff" * 100


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "contracts" / "2026").mkdir(parents=True)
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def portfolio(owner: User, teammate: User, manager: User, media_root: Path) -> list[Customer]:
    """Customers, contacts, tags, history, a token and an uploaded contract."""
    customers = [
        make_customer(owner, tags=["vip", "madrid"]),
        make_customer(teammate, legal_name="Ferretería Núñez SL", tax_id=valid_cif(4242)),
        make_lead(owner, "Panadería Ibáñez"),
    ]
    services.archive_customer(customer=customers[2], by=owner)
    ApiToken.issue(user=manager, name="erp", scope="read")
    (media_root / "contracts" / "2026" / "contrato-ñ.pdf").write_bytes(CONTRACT)
    (media_root / "logo.png").write_bytes(b"\x89PNG fake")
    return customers


def every_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, m2m through tables included, in primary-key order."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy
    }


def every_file(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    return out.getvalue()


def restore(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("restore", str(path), *args, stdout=out)
    return out.getvalue()


def damage_everything(owner: User, media_root: Path) -> None:
    """Changes, deletions and additions after the backup, all of which a restore must undo."""
    Customer.objects.update(legal_name="Borrado", notes="sobrescrito")
    ContactChannel.objects.filter(type="phone").delete()
    Customer.tags.through.objects.all().delete()
    Tag.objects.create(name="nueva")
    ApiToken.objects.all().delete()
    User.objects.filter(pk=owner.pk).update(first_name="Cambiado")
    make_lead(owner, "Creado después del backup")
    (media_root / "contracts" / "2026" / "contrato-ñ.pdf").unlink()
    (media_root / "logo.png").write_bytes(b"otro logo")
    (media_root / "stray.txt").write_text("added after the backup")


def rewrite_archive(
    source: Path,
    target: Path,
    *,
    manifest: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    extra: list[tarfile.TarInfo] | None = None,
) -> Path:
    """A copy of a backup with its manifest edited and extra members appended."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            if member.name == "manifest.json" and manifest:
                data = json.dumps(manifest(json.loads(data))).encode()
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))
        for member in extra or []:
            new.addfile(member, io.BytesIO(b"x" * member.size))
    return target


# --- Round trips -------------------------------------------------------------------------


@committed_db
def test_backup_and_restore_round_trip_every_row_and_file(
    portfolio: list[Customer], owner: User, media_root: Path, tmp_path: Path
) -> None:
    # given a portfolio with history, tags, a token and uploaded files, backed up
    archive = tmp_path / "backups" / "cartera.tar.gz"
    before, files = every_row(), every_file(media_root)
    output = backup(archive)

    # when everything is changed afterwards and the backup restored
    damage_everything(owner, media_root)
    assert every_row() != before
    summary = restore(archive, "--yes")

    # then every row of every table and every uploaded file is as it was
    assert every_row() == before
    assert every_file(media_root) == files
    # and the archive was private, its path printed first, the counts checked and printed
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert output.splitlines()[0] == str(archive)
    assert re.search(r"archivos subidos: 2 \(\d+,\d KB\)", output)  # with a decimal comma
    assert re.search(r"^  \d+(,\d)? (KB|MB|bytes), hecha el ", output, re.MULTILINE)
    assert "todas coinciden con la copia" in summary
    assert re.search(r"^  customers_customer +3$", summary, re.MULTILINE)
    # and the restored database keeps working: search index, code series and sequences
    assert list(Customer.objects.search("nunez")) == [portfolio[1]]
    later = make_lead(owner, "Cliente posterior")
    assert later.code == "C-000004"
    assert later.pk > max(c.pk for c in portfolio)


@committed_db
def test_restore_into_an_empty_database_needs_no_confirmation(
    portfolio: list[Customer], media_root: Path, tmp_path: Path
) -> None:
    # given a backup, and a database emptied as on a new machine
    archive = tmp_path / "cartera.tar.gz"
    before, files = every_row(), every_file(media_root)
    backup(archive)
    call_command("flush", interactive=False, verbosity=0)
    for path in media_root.rglob("*"):
        if path.is_file():
            path.unlink()

    # when it is restored without --yes
    restore(archive)

    # then everything is back
    assert every_row() == before
    assert every_file(media_root) == files


@committed_db
def test_backup_to_a_directory_uses_a_timestamped_name(
    portfolio: list[Customer], tmp_path: Path
) -> None:
    # when the target is a directory
    output = backup(tmp_path)

    # then the archive is named after the time inside it
    path = Path(output.splitlines()[0])
    assert path.parent == tmp_path
    assert path.name.startswith("cartera-") and path.name.endswith(".tar.gz")
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"]["customers_customer"] == 3
    assert ["customers", "0001_initial"] in manifest["migrations"]


@committed_db
def test_backup_never_overwrites(portfolio: list[Customer], tmp_path: Path) -> None:
    archive = tmp_path / "cartera.tar.gz"
    archive.write_text("an older backup")

    with pytest.raises(CommandError, match="already exists"):
        backup(archive)

    assert archive.read_text() == "an older backup"


# --- Refusals -----------------------------------------------------------------------------


@committed_db
def test_restore_refuses_without_yes_when_the_database_has_data(
    portfolio: list[Customer], owner: User, tmp_path: Path
) -> None:
    # given a backup and a customer created after it
    archive = tmp_path / "cartera.tar.gz"
    backup(archive)
    newer = make_lead(owner, "Posterior")

    # when it is restored without --yes
    with pytest.raises(CommandError, match="--yes"):
        restore(archive)

    # then nothing was replaced
    assert Customer.objects.filter(pk=newer.pk).exists()


@committed_db
def test_restore_refuses_a_backup_of_another_database_vendor(
    portfolio: list[Customer], owner: User, tmp_path: Path
) -> None:
    # given a backup whose manifest says it comes from the other vendor
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    archive = tmp_path / "cartera.tar.gz"
    backup(archive)
    foreign = rewrite_archive(
        archive, tmp_path / "foreign.tar.gz", manifest=lambda m: {**m, "vendor": other}
    )
    newer = make_lead(owner, "Posterior")

    # when it is restored
    with pytest.raises(CommandError, match=f"backup is of a {other} database"):
        restore(foreign, "--yes")

    # then nothing changed
    assert Customer.objects.filter(pk=newer.pk).exists()


@committed_db
def test_restore_refuses_a_backup_from_a_newer_cartera(
    portfolio: list[Customer], tmp_path: Path
) -> None:
    archive = tmp_path / "cartera.tar.gz"
    backup(archive)
    newer = rewrite_archive(
        archive,
        tmp_path / "newer.tar.gz",
        manifest=lambda m: {
            **m,
            "cartera_version": "9.0",
            "migrations": [*m["migrations"], ["customers", "9999_future"]],
        },
    )

    with pytest.raises(CommandError, match=r"Cartera 9\.0.*customers\.9999_future"):
        restore(newer, "--yes")


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 4) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size if kind == tarfile.REGTYPE else 0
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
    return info


@committed_db
@pytest.mark.parametrize(
    "member",
    [
        _member("../evil"),
        _member("media/../../evil"),
        _member("/tmp/evil"),
        _member("media/passwd", tarfile.SYMTYPE),
        _member("media/disk", tarfile.BLKTYPE),
        _member("settings.py"),
    ],
    ids=["parent", "parent-inside-media", "absolute", "symlink", "device", "unexpected"],
)
def test_restore_rejects_unsafe_members(
    member: tarfile.TarInfo, portfolio: list[Customer], media_root: Path, tmp_path: Path
) -> None:
    # given a backup with a hostile member added
    archive = tmp_path / "work" / "cartera.tar.gz"
    archive.parent.mkdir()
    backup(archive)
    hostile = rewrite_archive(archive, tmp_path / "work" / "hostile.tar.gz", extra=[member])
    before, files = every_row(), every_file(media_root)

    # when it is restored
    with pytest.raises(CommandError, match="unsafe or unexpected"):
        restore(hostile, "--yes")

    # then nothing was written anywhere
    assert not (tmp_path / "evil").exists()
    assert not Path("/tmp/evil").exists()
    assert every_row() == before
    assert every_file(media_root) == files


@committed_db
def test_restore_refuses_what_is_not_a_backup(portfolio: list[Customer], tmp_path: Path) -> None:
    garbage = tmp_path / "cartera.tar.gz"
    garbage.write_bytes(b"not a gzip file at all")

    with pytest.raises(CommandError, match="not a readable Cartera backup"):
        restore(garbage, "--yes")
    with pytest.raises(CommandError, match="does not exist"):
        restore(tmp_path / "missing.tar.gz")


# --- The command line on a SQLite file, as in production -------------------------------------


SEED = """
from cartera.accounts.models import User
from tests.conftest import make_customer, make_lead
ana = User.objects.create_user("ana", password="una-clave-larga-2026", role="admin")
make_customer(ana, tags=["vip"])
make_lead(ana, "Panadería Ibáñez")
"""


def sqlite_dump(path: Path) -> list[str]:
    """Every table, row and index of a SQLite file, as SQL, read without Django."""
    with closing(sqlite3.connect(path)) as database:
        return list(database.iterdump())


def test_cli_round_trip_on_a_sqlite_file(tmp_path: Path) -> None:
    # given a data directory with a SQLite file (WAL mode) holding customers and an upload
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CARTERA_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="tests.settings")

    def cartera(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "cartera.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    cartera("migrate", "-v0")
    cartera("shell", "-c", SEED)
    (data / "media").mkdir()
    (data / "media" / "contrato.pdf").write_bytes(CONTRACT)
    database = data / "cartera.sqlite3"
    before = sqlite_dump(database)

    # when it is backed up while another process is in the middle of a write
    with closing(sqlite3.connect(database, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO customers_tag (name) VALUES ('uncommitted')")
        archive = Path(cartera("backup").splitlines()[0])
        writer.execute("ROLLBACK")

    # then the backup is the committed state: the writer neither blocked it nor leaked into it
    assert archive.parent == data / "backups"
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["tables"]["customers_tag"] == 1

    # and when the data is changed and the backup restored
    with closing(sqlite3.connect(database)) as changing, changing:
        changing.execute("UPDATE customers_customer SET notes = 'x'")
        changing.execute("DELETE FROM customers_contactchannel")
    (data / "media" / "contrato.pdf").unlink()
    assert sqlite_dump(database) != before
    cartera("restore", str(archive), "--yes")

    # then the database and the file are back, with no WAL left behind
    assert sqlite_dump(database) == before
    assert (data / "media" / "contrato.pdf").read_bytes() == CONTRACT
    wal = data / "cartera.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
