"""The import wizard in a real browser: upload, columns, check, duplicates, run, result, undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.core.jobs import run_pending
from cartera.customers.models import Customer
from tests.conftest import make_customer, valid_cif
from tests.e2e.conftest import login, shot
from tests.transfer.files import SPANISH_HEADERS, csv_bytes, spanish_row

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def test_whole_import_wizard(page: Page, live_server: Any, owner: User, tmp_path: Path) -> None:
    # given a customer already in the register and a file of 6 rows from a Spanish Excel:
    # one with errors, one repeating the register's customer (same tax id)
    make_customer(owner, tax_id=valid_cif(3000002))
    rows = [SPANISH_HEADERS, *[spanish_row(i) for i in range(1, 6)]]
    rows.append(spanish_row(6, tax_id="B12345670", email="sin-arroba"))
    path = tmp_path / "clientes.csv"
    path.write_bytes(csv_bytes(rows, encoding="cp1252"))
    login(page, live_server, owner)

    # when they open Import from the menu and upload the file
    page.get_by_role("link", name="Importar").or_(page.get_by_role("link", name="Import")).click()
    shot(page, "import-01-upload")
    page.locator("input[type=file]").set_input_files(str(path))
    with page.expect_navigation():
        page.locator("#import-upload button[type=submit]").click()

    # then the columns are recognised from the Spanish headers
    expect(page.locator("#column-0")).to_have_value("legal_name")
    expect(page.locator("#column-1")).to_have_value("tax_id")
    expect(page.locator("#column-6")).to_have_value("municipality")
    shot(page, "import-02-columns")

    # when they check the file and the worker runs the check
    with page.expect_navigation():
        page.locator("#import-check").click()
    expect(page.locator("#import-progress")).to_be_visible()
    assert run_pending() == 1
    # then the page (polling) shows the report: counts, the error and the duplicate
    expect(page.locator("#count-total")).to_have_text("6", timeout=10_000)
    expect(page.locator("#count-invalid")).to_have_text("1")
    expect(page.locator("#count-duplicates")).to_have_text("1")
    expect(page.locator("#import-errors")).to_contain_text("B12345670")
    expect(page.locator("#import-duplicates")).to_contain_text("Muñoz y Asociados SL")
    shot(page, "import-03-report")
    assert Customer.objects.count() == 1  # the check wrote nothing

    # when they import, skipping duplicates, and the worker runs the import
    page.locator("input[name=policy][value=skip]").check()
    with page.expect_navigation():
        page.locator("#import-start").click()
    assert run_pending() == 2  # the import, then the statistics job it queues

    # then the result lists the 4 new customers with links to them
    expect(page.locator("#count-created")).to_have_text("4", timeout=10_000)
    expect(page.locator("#count-skipped")).to_have_text("2")
    expect(page.locator("#import-customers li")).to_have_count(4)
    shot(page, "import-04-result")
    assert Customer.objects.count() == 5

    # and the import can be undone while nobody has touched them, once the user confirms
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    with page.expect_navigation():
        page.locator("#import-undo").click()
    assert dialogs == ["¿Deshacer la importación? Se eliminarán los 4 clientes que creó."]
    expect(page.locator("#import-undo")).to_have_count(0)
    expect(page.locator("#import-undone")).to_contain_text("se eliminaron los clientes que creó")
    assert Customer.objects.count() == 1
    shot(page, "import-05-undone")
