"""Numbering under concurrent creation: no gaps, no duplicates (threads, real database)."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from cartera.accounts.models import User
from cartera.customers.models import Customer
from cartera.sales.models import SalesDocument
from tests.conftest import make_customer, make_user, sqlite_copy
from tests.sales.conftest import make_document

THREADS = 8
EACH = 5


def _numbers(path: Path | None) -> list[tuple[str, int, str]]:
    if path is None:
        return list(SalesDocument.objects.values_list("type", "number", "code"))
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT type, number, code FROM sales_salesdocument").fetchall()


@pytest.mark.django_db(transaction=True)
def test_concurrent_documents_get_consecutive_unique_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one customer and several salespeople creating quotes and invoices at once
    owner = make_user("olga")
    customer = make_customer(owner)
    # SQLite's test database lives in memory, where it locks tables instead of waiting: the
    # threads work on a copy in a file, as the application does (WAL, IMMEDIATE).
    path = sqlite_copy(tmp_path / "numbering.sqlite3")
    if path is not None:
        monkeypatch.setitem(connection.settings_dict, "NAME", str(path))
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(index: int) -> None:
        try:
            start.wait()
            user = User.objects.get(pk=owner.pk)
            me = Customer.objects.get(pk=customer.pk)
            for _n in range(EACH):
                make_document(me, user, "quote" if index % 2 else "invoice")
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    # when the threads run together
    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every document was created, each series numbered 1..n with no gap nor duplicate
    assert errors == []
    rows = _numbers(path)
    for doc_type in ("quote", "invoice"):
        numbers = sorted(number for kind, number, _code in rows if kind == doc_type)
        assert numbers == list(range(1, THREADS // 2 * EACH + 1))
    assert len({code for _kind, _number, code in rows}) == THREADS * EACH
