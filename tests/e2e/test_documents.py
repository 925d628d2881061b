"""Documents on the ficha in a real browser: attach a PDF, see it listed, download it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cartera.accounts.models import User
from cartera.activities.models import Attachment
from tests.conftest import make_customer
from tests.e2e.conftest import expect_http_errors, login, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def test_salesperson_attaches_a_pdf_on_the_ficha_and_downloads_it(
    page: Page, live_server: Any, owner: User, tmp_path: Path
) -> None:
    # given a customer of the salesperson, and a signed contract on their disk
    customer = make_customer(owner)
    contract = tmp_path / "Contrato firmado Ñandú.pdf"
    contract.write_bytes(PDF)
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#documents")
    expect(panel).to_be_visible()

    # when they open the upload form, choose the file and a type, and upload it
    panel.locator("summary").click()
    panel.locator("input[type=file]").set_input_files(str(contract))
    panel.locator("select[name=kind]").select_option("contract")
    panel.locator("input[name=description]").fill("Firmado en marzo")
    with page.expect_navigation():
        panel.locator("button[type=submit]").click()

    # then they are back on the ficha, and the panel lists the document
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/#documents")
    item = Attachment.objects.get(customer=customer)
    row = page.locator(f"#document-{item.pk}")
    expect(row).to_contain_text("Contrato_firmado_Ñandú.pdf")
    expect(row).to_contain_text("Firmado en marzo")
    assert item.sha256 == hashlib.sha256(PDF).hexdigest()
    shot(page, "documents-01-panel")

    # and the link downloads exactly the bytes uploaded, under the original name
    with page.expect_download() as download_info:
        row.locator("a.document-name").click()
    download = download_info.value
    assert download.suggested_filename == "Contrato_firmado_Ñandú.pdf"
    assert Path(download.path()).read_bytes() == PDF

    # and on the full list they may delete it (after confirming)
    page.locator("#documents a.documents-all").click()
    listed = page.locator(f"#document-{item.pk}")
    expect(listed).to_contain_text("Olga")
    shot(page, "documents-04-list")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        listed.locator("button[type=submit]").click()
    expect(page.locator(f"#document-{item.pk}")).to_have_count(0)
    assert not Attachment.objects.exists()


def test_a_disguised_program_is_refused_with_the_error_on_the_field(
    page: Page, live_server: Any, owner: User, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # given a program renamed to look like a PDF
    expect_http_errors(request, 422)
    customer = make_customer(owner)
    fake = tmp_path / "factura.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 300)
    login(page, live_server, owner)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#documents")
    panel.locator("summary").click()
    panel.locator("input[type=file]").set_input_files(str(fake))
    with page.expect_navigation():
        panel.locator("button[type=submit]").click()

    # then the documents page shows the error on the file field, and nothing was stored
    error = page.locator("#id_file_error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("factura.pdf")
    assert Attachment.objects.count() == 0
    shot(page, "documents-02-refused")

    # and the full list page shows the (empty) list with the form
    page.goto(f"{live_server.url}/documents/customers/{customer.pk}/")
    expect(page.locator("form.document-form")).to_be_visible()
    shot(page, "documents-03-list")
