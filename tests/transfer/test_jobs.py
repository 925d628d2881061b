"""The import's jobs as the worker runs them: in the importer's language, and never stuck."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cartera.core.jobs import run_pending
from cartera.customers.models import Customer
from cartera.transfer import checked, services
from cartera.transfer.jobs import RUN_ATTEMPTS, run_import
from cartera.transfer.models import Import, ImportStatus
from tests.conftest import client_for
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row, upload

pytestmark = pytest.mark.django_db(transaction=True)


def _uploaded(by: Any, rows: list[list[Any]]) -> Import:
    batch = services.create_import(file=upload("a.csv", csv_bytes(rows)), name="a.csv", by=by)
    return batch


def test_the_check_speaks_the_language_of_who_imports(owner: Any) -> None:
    # given a salesperson who chose English, and a file with a wrong e-mail
    owner.language = "en"
    owner.save(update_fields=["language"])
    batch = _uploaded(owner, [SPANISH_HEADERS, spanish_row(1, email="no es un correo")])

    # when the worker checks it (the site's language is Spanish)
    services.start_check(batch=batch, by=owner)
    assert run_pending() == 1

    # then the row's error is kept in English
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CHECKED
    assert batch.errors[0]["message"] == "Enter a valid e-mail address."


def test_a_run_that_keeps_failing_ends_failed_and_a_retry_resumes_it(owner: Any) -> None:
    # given a checked import whose uploaded file and checked rows were removed from the disk
    content = csv_bytes([SPANISH_HEADERS, spanish_row(1)])
    batch = _uploaded(owner, [SPANISH_HEADERS, spanish_row(1)])
    services.check_now(batch)
    checked.forget(batch)
    batch.file.storage.delete(batch.file.name)

    # when the worker runs it, each attempt failing, until none is left
    services.start_run(batch=batch, by=owner, policy="skip")
    for attempt in range(1, RUN_ATTEMPTS + 1):
        assert run_pending() == 1
        batch.refresh_from_db()
        if attempt < RUN_ATTEMPTS:
            # then it stays running while attempts are left
            assert batch.status == ImportStatus.RUNNING
            DBTaskResult.objects.update(run_after=timezone.now())

    # and after the last one it is failed, saying why and what can be done
    assert batch.status == ImportStatus.FAILED and batch.finished_at is not None
    assert batch.message == (
        "La importación se detuvo por un error inesperado después de crear 0 clientes; se "
        "pueden deshacer, o reanudar la importación reintentando el trabajo."
    )

    # when the file is back and an administrator retries the job, the import is resumed
    batch.file.storage.save(batch.file.name, ContentFile(content))
    run_import.enqueue(batch.pk)
    assert run_pending() == 2  # the import, then the statistics it refreshes
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.message) == (ImportStatus.DONE, 1, "")


def test_a_failed_import_that_wrote_customers_can_be_undone_from_its_page(owner: Any) -> None:
    # given an import that wrote a customer, then failed (as a later chunk's error leaves it)
    batch = _uploaded(owner, [SPANISH_HEADERS, spanish_row(1)])
    services.check_now(batch)
    services.run_now(batch)
    Import.objects.filter(pk=batch.pk).update(status=ImportStatus.FAILED)

    # then its page offers the undo, which deletes the customer
    client = client_for(owner)
    assert 'id="import-undo"' in client.get(f"/import/{batch.pk}/").content.decode()
    assert client.post(f"/import/{batch.pk}/undo/").status_code == 302
    assert not Customer.objects.exists()
