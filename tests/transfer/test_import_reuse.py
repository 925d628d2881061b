"""The run takes the rows as the check left them, and only while that can be trusted."""

from __future__ import annotations

from typing import Any

import pytest

from cartera.customers.models import Customer
from cartera.transfer import services
from cartera.transfer.models import Import, ImportStatus
from tests.conftest import make_customer, valid_cif
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row, upload

pytestmark = pytest.mark.django_db


def _checked(owner: Any, rows: int = 3) -> Import:
    content = csv_bytes([SPANISH_HEADERS] + [spanish_row(i) for i in range(rows)])
    batch = services.create_import(file=upload("c.csv", content), name="c.csv", by=owner)
    services.check_now(batch)
    assert batch.status == ImportStatus.CHECKED
    return batch


def _run(batch: Import) -> Import:
    batch.status = ImportStatus.QUEUED
    batch.save(update_fields=["status"])
    return services.run_now(batch)


def test_the_check_keeps_its_rows_signed_for_the_run(owner: Any) -> None:
    batch = _checked(owner)
    kept = batch.options["checked"]
    assert batch.file.storage.exists(kept["name"]) and len(kept["signature"]) == 64
    batch = _run(batch)
    assert batch.status == ImportStatus.DONE and batch.created_count == 3
    assert Customer.objects.filter(tax_id=valid_cif(3000002)).exists()
    # and, every row written, they are deleted
    assert not batch.file.storage.exists(kept["name"]) and "checked" not in batch.options


def test_a_tax_id_taken_after_the_check_is_a_duplicate_at_the_run(owner: Any) -> None:
    # given a checked file, and a customer created afterwards with the tax id of its row 2
    batch = _checked(owner)
    make_customer(owner, legal_name="Llegó antes SL", tax_id=valid_cif(3000001))
    # when it is imported, skipping duplicates
    batch = _run(batch)
    # then that row is skipped, and no second customer holds the tax id
    assert (batch.status, batch.created_count, batch.skipped_count) == (ImportStatus.DONE, 2, 1)
    assert Customer.objects.filter(tax_id=valid_cif(3000001)).count() == 1


def test_tampered_results_are_not_trusted(owner: Any) -> None:
    # given a checked file whose kept results were changed on disk
    batch = _checked(owner)
    name = batch.options["checked"]["name"]
    storage = batch.file.storage
    with storage.open(name, "rb") as stream:
        content = bytearray(stream.read())
    content[-2] ^= 0xFF
    storage.delete(name)
    storage.save(name, upload("x.bin", bytes(content)))
    # when it is imported, the rows are read and checked again
    batch = _run(batch)
    # then the outcome is the file's, not the changed results'
    assert batch.status == ImportStatus.DONE and batch.created_count == 3


def test_a_list_changed_since_the_check_means_checking_again(owner: Any) -> None:
    # given a checked file, and a custom field made required afterwards
    from cartera.customers.models import CustomField

    batch = _checked(owner)
    CustomField.objects.create(key="zona", label="Zona", field_type="text", required=True)
    # when it is imported
    batch = _run(batch)
    # then the rows were checked again: none passes without the required field
    assert batch.status == ImportStatus.DONE
    assert (batch.created_count, batch.skipped_count) == (0, 3)
