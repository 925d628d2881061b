"""A large file's rows validated by helper processes: the same report as validating them here."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from cartera.transfer import parallel, pipeline, services
from cartera.transfer.models import DuplicatePolicy, Import, ImportStatus
from tests.conftest import make_customer, make_user, sqlite_copy, valid_cif
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row, upload
from tests.transfer.helpers import imported


def _in_thread(path: Path | None, work: Callable[[], Any]) -> Any:
    """``work()`` in a thread of its own: its own connection, to the copy on disk if any."""
    found: dict[str, Any] = {}

    def run() -> None:
        try:
            if path is not None:  # this thread's connection only
                connection.settings_dict = {**connection.settings_dict, "NAME": str(path)}
            found["result"] = work()
        except BaseException as exc:
            found["result"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert "result" in found, "the pass did not end within two minutes"
    assert not isinstance(found["result"], BaseException), found["result"]
    return found["result"]


def _report(
    content: bytes, by: Any, workers: int, monkeypatch: pytest.MonkeyPatch, path: Path | None
) -> Any:
    """The check's report of the file."""
    monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", workers)

    def work() -> Any:
        with translation.override("en"):  # not the default: the helpers must follow
            batch = imported("lote.csv", content, by, dry_run=True)
        return (
            batch.status, batch.total_rows, batch.valid_rows, batch.invalid_rows,
            batch.duplicate_rows, batch.errors, batch.duplicates,
            batch.error_file.open("rb").read(),
        )  # fmt: skip

    return _in_thread(path, work)


@pytest.fixture
def sheet(transactional_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A register customer and a file of 60 rows: bad ones, a row repeating an earlier one of
    the file and four repeating the register's customer, checked in chunks of 7 rows, helpers
    from the third chunk on."""
    owner = make_user("olga")
    held = make_customer(owner, tax_id=valid_cif(7770001), legal_name="Ya Registrada SL")
    rows = [SPANISH_HEADERS] + [spanish_row(i) for i in range(60)]
    rows[5] = spanish_row(4, tax_id="B12345670")  # wrong check digit
    rows[17] = spanish_row(16, email="sin-arroba")
    rows[41] = spanish_row(40, email=rows[2][3])  # the e-mail of sheet row 3, chunks before
    rows[50] = spanish_row(49, tax_id=held.tax_id)
    # the register's customer by its name (in its town), e-mail and phone, in chunks the
    # helpers validate: their rows' e-mails, phones and names must come back as this process
    # makes them for the matching to find the customer
    rows[30] = spanish_row(29, name="Ya Registrada, S.L.")
    rows[33] = spanish_row(32, email="INFO@munoz.example")
    rows[45] = spanish_row(44, phone="600 11 22 33")
    monkeypatch.setattr(pipeline, "CHUNK", 7)
    monkeypatch.setattr(parallel, "START_AFTER", 14)
    return owner, held, csv_bytes(rows), sqlite_copy(tmp_path / "register.sqlite3")


def test_helpers_report_what_this_process_reports(
    sheet: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    owner, held, content, path = sheet
    spread: list[int] = []
    real_spread = parallel._spread

    def counted(*args: Any) -> Iterator[Any]:
        spread.append(args[2])  # how many helpers were started
        yield from real_spread(*args)

    monkeypatch.setattr(parallel, "_spread", counted)

    # when the file is checked here alone, then with two helper processes
    alone = _report(content, owner, 0, monkeypatch, path)
    helped = _report(content, owner, 2, monkeypatch, path)

    # then the helpers did validate most of it, and the reports are the same, in English
    assert spread == [2]
    assert "a helper process stopped" not in caplog.text  # none left its rows to the parent
    assert helped == alone
    status, total, valid, invalid, duplicate, errors, duplicates, _file = helped
    assert (status, total, valid, invalid, duplicate) == ("checked", 60, 58, 2, 5)
    assert {e["row"] for e in errors} == {6, 18}
    assert {(6, "NIF"), (18, "Correo electrónico")} <= {(e["row"], e["column"]) for e in errors}
    assert any("valid" in e["message"] and "válid" not in e["message"] for e in errors)
    assert {(d["row"], d["kind"], d["file_row"], d["customer"]) for d in duplicates} == {
        (42, "email", 3, None),
        (51, "tax_id", None, held.pk),
        (31, "name", None, held.pk),
        (34, "email", None, held.pk),
        (46, "phone", None, held.pk),
    }


def _die(*_args: Any) -> None:
    """A helper's start that ends its process at once, as a crash or the OOM killer would."""
    os._exit(3)


def test_a_helper_that_dies_leaves_its_rows_to_this_process(
    sheet: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    owner, _held, content, path = sheet
    alone = _report(content, owner, 0, monkeypatch, path)
    # given helpers that die as they start (the helper runs this module's ``_die``)
    monkeypatch.setattr(parallel, "_start", _die)
    # when the file is checked with them
    helped = _report(content, owner, 2, monkeypatch, path)
    # then every row was checked here instead, and the log says why
    assert helped == alone
    assert helped[1] == 60
    assert "a helper process stopped" in caplog.text


def test_a_stop_asked_near_the_end_is_heard(sheet: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a check asked to stop once 42 of the 60 rows are checked (chunks of 7)
    owner, _held, content, path = sheet

    def cancelled_check(workers: int) -> Any:
        monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", workers)

        def work() -> Any:
            batch = services.create_import(file=upload("l.csv", content), name="l.csv", by=owner)

            def progress(rows: int) -> None:
                if rows >= 42:
                    Import.objects.filter(pk=batch.pk).update(cancel_requested=True)

            services.check_now(batch, progress=progress)
            return batch.status, batch.total_rows

        return _in_thread(path, work)

    # then it stops there with helpers as without them, though they had the last chunks already
    assert cancelled_check(2) == cancelled_check(0) == (ImportStatus.CANCELLED, 0)


def test_an_import_checking_again_sees_the_customers_it_wrote(
    sheet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file whose row 41 repeats the tax id of row 31, two chunks before, and an import
    # that cannot reuse its check (so it checks each chunk again as it writes)
    owner, _held, _content, path = sheet
    rows = [SPANISH_HEADERS] + [spanish_row(i) for i in range(60)]
    rows[40] = spanish_row(1000, tax_id=rows[30][1])
    content = csv_bytes(rows)
    monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", 2)

    def work() -> Any:
        batch = services.create_import(file=upload("l.csv", content), name="l.csv", by=owner)
        services.check_now(batch)
        options = {k: v for k, v in batch.options.items() if k != "checked"}
        Import.objects.filter(pk=batch.pk).update(
            options=options, policy=DuplicatePolicy.UPDATE_EMPTY, status=ImportStatus.QUEUED
        )
        batch.refresh_from_db()
        batch = services.run_now(batch)
        return batch.status, batch.created_count, batch.updated_count, batch.skipped_count

    # then row 41 updates the customer row 31 created, as it does without helpers
    assert _in_thread(path, work) == (ImportStatus.DONE, 59, 1, 0)


def test_one_helper_per_core_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", None)
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0})
    assert parallel.helpers_wanted() == 0
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1, 2})
    assert parallel.helpers_wanted() == 3
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(64)))
    assert parallel.helpers_wanted() == parallel.MOST_HELPERS
    monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", 1)
    assert parallel.helpers_wanted() == 1
    monkeypatch.setattr("django.conf.settings.CARTERA_IMPORT_WORKERS", 0)
    assert parallel.helpers_wanted() == 0
