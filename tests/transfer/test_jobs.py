"""The import's jobs as the worker runs them: in the importer's language, and never stuck."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cartera.core.jobs import run_pending
from cartera.transfer import checked, services
from cartera.transfer.jobs import RUN_ATTEMPTS
from cartera.transfer.models import Import, ImportStatus
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


def test_a_run_that_keeps_failing_ends_failed_with_a_message(owner: Any) -> None:
    # given a checked import whose uploaded file and checked rows were removed from the disk
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

    # and after the last one it is failed, saying why, and can be undone
    assert batch.status == ImportStatus.FAILED
    assert batch.message.startswith("La importación se detuvo por un error inesperado")
    assert batch.finished_at is not None
    assert services.undo(batch=batch, by=owner) == 0
