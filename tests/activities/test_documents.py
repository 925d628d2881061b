"""Documents attached to a customer: checks, storage, visibility, download, delete, API."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cartera.accounts.models import User
from cartera.activities import documents
from cartera.activities.document_views import document_panel
from cartera.activities.models import Attachment, EntryKind, TimelineEntry
from cartera.activities.services import ActivityInvalid
from cartera.audit.models import Action, AuditEvent
from cartera.customers.models import Customer
from tests.conftest import bearer, client_for, make_customer

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Files go to a temporary directory through the default (file system) storage."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def customer(owner: User, team_visibility: Any) -> Customer:
    return make_customer(owner)


def pdf(name: str = "contrato.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def attach(customer: Customer, by: User, **kwargs: Any) -> Attachment:
    kwargs.setdefault("file", pdf())
    return documents.attach_document(customer=customer, by=by, **kwargs)


# --- Uploading ----------------------------------------------------------------------------


def test_upload_stores_the_file_with_its_checksum_size_and_type(
    customer: Customer, owner: User
) -> None:
    # when the owner attaches a contract
    item = attach(customer, owner, kind="contract", description="Firmado en marzo")

    # then the row says what the file is, and the storage holds exactly its bytes
    item.refresh_from_db()
    assert item.sha256 == hashlib.sha256(PDF).hexdigest()
    assert item.size == len(PDF)
    assert item.content_type == "application/pdf"
    assert (item.name, item.kind, item.description) == (
        "contrato.pdf",
        "contract",
        "Firmado en marzo",
    )
    assert item.uploaded_by == owner
    with default_storage.open(item.file.name, "rb") as handle:
        assert handle.read() == PDF
    # stored under a random name: the original one is not in the path
    assert "contrato" not in item.file.name


def test_upload_adds_a_timeline_entry_and_an_audit_record(customer: Customer, owner: User) -> None:
    item = attach(customer, owner)

    entry = TimelineEntry.objects.get(customer=customer, kind=EntryKind.DOCUMENT)
    assert (entry.attachment, entry.actor) == (item, owner)
    assert entry.data["name"] == "contrato.pdf"
    event = AuditEvent.objects.get(object_type="attachment", action=Action.CREATE)
    assert (event.object_id, event.customer_id, event.actor) == (item.pk, customer.pk, owner)
    assert event.changes["name"] == [None, "contrato.pdf"]


def test_an_exe_renamed_pdf_is_refused_by_its_content(
    customer: Customer, owner: User, media: Path
) -> None:
    with pytest.raises(ActivityInvalid) as refused:
        attach(customer, owner, file=pdf("factura.pdf", EXE))

    assert list(refused.value.messages_by_field) == ["file"]
    assert Attachment.objects.count() == 0
    assert TimelineEntry.objects.filter(kind=EntryKind.DOCUMENT).count() == 0
    assert stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused(
    customer: Customer, owner: User, settings: Any, media: Path
) -> None:
    # given a limit of 1 MB
    settings.CARTERA_ATTACHMENT_MAX_MB = 1
    big = PDF + b"0" * (1024 * 1024)

    with pytest.raises(ActivityInvalid) as refused:
        attach(customer, owner, file=pdf("grande.pdf", big))

    assert "file" in refused.value.messages_by_field
    assert Attachment.objects.count() == 0
    assert stored_files(media) == []
    # and a file within it passes
    attach(customer, owner, file=pdf("justo.pdf", PDF + b"0" * (1024 * 1024 - len(PDF))))


def test_the_types_setting_narrows_what_is_accepted(
    customer: Customer, owner: User, settings: Any
) -> None:
    settings.CARTERA_ATTACHMENT_TYPES = ["pdf"]
    with pytest.raises(ActivityInvalid):
        attach(customer, owner, file=SimpleUploadedFile("logo.png", PNG))
    settings.CARTERA_ATTACHMENT_TYPES = ["pdf", "png"]
    assert attach(customer, owner, file=SimpleUploadedFile("logo.png", PNG)).content_type == (
        "image/png"
    )


def test_empty_file_wrong_kind_and_long_description_name_their_fields(
    customer: Customer, owner: User
) -> None:
    with pytest.raises(ActivityInvalid) as refused:
        attach(customer, owner, file=pdf("vacio.pdf", b""), kind="secret", description="x" * 301)

    assert set(refused.value.messages_by_field) == {"file", "kind", "description"}
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(
    ("original", "cleaned"),
    [
        ("Contrato firmado Ñandú.pdf", "Contrato_firmado_Ñandú.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\olga\\factura 2026.pdf", "factura_2026.pdf"),
        ('"; rm -rf <x>.pdf', "rm_-rf_x.pdf"),
        (".htaccess.pdf", "htaccess.pdf"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
        ("", "document"),
    ],
)
def test_file_names_are_cleaned_for_display_and_download(original: str, cleaned: str) -> None:
    assert documents.clean_name(original) == cleaned


def test_a_reader_and_an_outsider_cannot_attach(
    customer: Customer, reader: User, outsider: User
) -> None:
    for user in (reader, outsider):
        with pytest.raises(PermissionDenied):
            attach(customer, user)
    assert Attachment.objects.count() == 0


# --- Who sees what ------------------------------------------------------------------------


def test_private_document_is_seen_only_by_its_uploader_and_admins(
    customer: Customer, owner: User, teammate: User, manager: User, admin_user: User
) -> None:
    # given a private document of the owner, and a shared one
    secret = attach(customer, owner, file=pdf("nomina.pdf"), private=True)
    shared = attach(customer, owner)

    def seen(user: User) -> set[int]:
        return set(documents.documents_of(customer, user).values_list("pk", flat=True))

    # then the teammate and the manager see only the shared one; owner and admin both
    assert seen(teammate) == {shared.pk}
    assert seen(manager) == {shared.pk}
    assert seen(owner) == {secret.pk, shared.pk}
    assert seen(admin_user) == {secret.pk, shared.pk}
    url = reverse("documents:download", args=[secret.pk])
    assert client_for(teammate).get(url).status_code == 404
    assert client_for(manager).get(url).status_code == 404
    assert client_for(admin_user).get(url).status_code == 200
    # nor does the timeline tell the teammate about it
    entries = TimelineEntry.objects.visible_to(teammate).filter(kind=EntryKind.DOCUMENT)
    assert [e.attachment_id for e in entries] == [shared.pk]
    # and the history does not carry its name
    event = AuditEvent.objects.get(
        object_id=secret.pk, object_type="attachment", action=Action.CREATE
    )
    assert "nomina" not in event.object_label and "name" not in event.changes


def test_outsider_gets_404_on_download_by_id(
    customer: Customer, owner: User, outsider: User
) -> None:
    item = attach(customer, owner)
    client = client_for(outsider)
    assert client.get(reverse("documents:download", args=[item.pk])).status_code == 404
    assert client.get(reverse("documents:list", args=[customer.pk])).status_code == 404
    assert client.post(reverse("documents:delete", args=[item.pk])).status_code == 404
    assert Attachment.objects.filter(pk=item.pk).exists()


# --- Download -----------------------------------------------------------------------------


def test_download_streams_the_file_as_an_attachment(customer: Customer, owner: User) -> None:
    item = attach(customer, owner, file=pdf("Contrato firmado Ñandú.pdf"))

    response = client_for(owner).get(reverse("documents:download", args=[item.pk]))

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''Contrato_firmado_%C3%91and%C3%BA.pdf" in disposition
    # the access is logged
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_type="attachment", object_id=item.pk, actor=owner
    ).exists()


def test_stored_files_have_no_public_url(customer: Customer, owner: User) -> None:
    item = attach(customer, owner)
    client = client_for(owner)
    assert client.get("/" + item.file.name).status_code == 404
    assert client.get("/media/" + item.file.name).status_code == 404
    assert client.get("/static/" + item.file.name).status_code == 404


def test_download_of_a_missing_file_is_404_not_500(customer: Customer, owner: User) -> None:
    item = attach(customer, owner)
    default_storage.delete(item.file.name)
    assert client_for(owner).get(reverse("documents:download", args=[item.pk])).status_code == 404


def test_a_big_upload_is_hashed_while_streaming(customer: Customer, owner: User) -> None:
    # given a file larger than Django keeps in memory (it arrives as a temporary file)
    content = PDF + b"1234567\n" * (400 * 1024)  # about 3.2 MB
    client = client_for(owner)

    response = client.post(
        reverse("documents:list", args=[customer.pk]),
        {"file": pdf("grande.pdf", content), "kind": "other", "description": ""},
    )

    assert response.status_code == 302
    item = Attachment.objects.get()
    assert (item.size, item.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    with default_storage.open(item.file.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == item.sha256


# --- Delete -------------------------------------------------------------------------------


def test_delete_removes_the_file_on_commit_and_records_it(
    customer: Customer, owner: User, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    item = attach(customer, owner)
    path = Path(default_storage.path(item.file.name))
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("documents:delete", args=[item.pk]))

    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=item.pk).exists()
    assert not path.exists()
    assert AuditEvent.objects.filter(
        action=Action.DELETE, object_type="attachment", object_id=item.pk
    ).exists()
    # the upload stays in the story, by name
    entry = TimelineEntry.objects.get(kind=EntryKind.DOCUMENT)
    assert entry.attachment is None
    assert entry.data == {
        "name": "contrato.pdf",
        "size": len(PDF),
        "kind": "other",
        "deleted": True,
    }


def test_delete_keeps_the_file_when_the_transaction_rolls_back(
    customer: Customer, owner: User, django_capture_on_commit_callbacks: Any
) -> None:
    item = attach(customer, owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        documents.delete_document(attachment=item, by=owner)
    # the removal waits for the commit
    assert len(callbacks) == 1
    assert default_storage.exists(item.file.name)


def test_who_may_delete(
    customer: Customer, owner: User, teammate: User, reader: User, manager: User,
    admin_user: User,
) -> None:  # fmt: skip
    shared = attach(customer, owner)
    secret = attach(customer, owner, private=True)
    reader.team = owner.team
    reader.save()

    # anyone who may edit the customer deletes a shared document; the reader does not
    assert documents.may_delete(shared, teammate)
    assert documents.may_delete(shared, manager)
    assert not documents.may_delete(shared, reader)
    # a private one only its uploader and administrators
    assert not documents.may_delete(secret, teammate)
    assert not documents.may_delete(secret, manager)
    assert documents.may_delete(secret, owner)
    assert documents.may_delete(secret, admin_user)
    with pytest.raises(PermissionDenied):
        documents.delete_document(attachment=shared, by=reader)
    assert client_for(reader).post(reverse("documents:delete", args=[shared.pk])).status_code == 403
    assert Attachment.objects.count() == 2


# --- The upload form ----------------------------------------------------------------------


def test_upload_form_attaches_and_goes_back_to_the_ficha(customer: Customer, owner: User) -> None:
    ficha = reverse("customers:detail", args=[customer.pk])
    response = client_for(owner).post(
        reverse("documents:list", args=[customer.pk]),
        {"file": pdf(), "kind": "invoice", "description": "Marzo", "next": ficha + "#documents"},
    )
    assert response.status_code == 302
    assert response["Location"] == ficha + "#documents"
    assert Attachment.objects.get().kind == "invoice"


def test_upload_form_never_redirects_to_another_site(customer: Customer, owner: User) -> None:
    response = client_for(owner).post(
        reverse("documents:list", args=[customer.pk]),
        {"file": pdf(), "kind": "other", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("documents:list", args=[customer.pk])


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: pdf("factura.pdf", EXE), "does not match its extension"),
        (lambda: pdf("grande.pdf", PDF + b"0" * (1024 * 1024)), "too big"),
        (lambda: pdf("vacio.pdf", b""), "is empty"),
        (lambda: SimpleUploadedFile("virus.exe", EXE), "not allowed"),
        (lambda: None, "required"),
    ],
)
def test_upload_form_errors_are_shown_on_the_file_field_with_422(
    customer: Customer, owner: User, settings: Any, media: Path, upload: Any, message: str
) -> None:
    settings.CARTERA_ATTACHMENT_MAX_MB = 1
    data: dict[str, Any] = {"kind": "other", "description": "x"}
    if (file := upload()) is not None:
        data["file"] = file
    client = client_for(owner)
    client.cookies["cartera_language"] = "en"
    response = client.post(reverse("documents:list", args=[customer.pk]), data)

    assert response.status_code == 422
    html = response.content.decode()
    errors = re.findall(r'<small class="error" id="id_file_error">([^<]*)</small>', html)
    assert errors and message in errors[0]
    assert Attachment.objects.count() == 0
    assert stored_files(media) == []


def test_upload_form_needs_the_csrf_token(customer: Customer, owner: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = reverse("documents:list", args=[customer.pk])

    # without the token: refused, nothing stored
    assert client.post(url, {"file": pdf(), "kind": "other"}).status_code == 403
    assert Attachment.objects.count() == 0

    # with the token of the form on the page: attached
    page = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    data = {"file": pdf(), "kind": "other", "csrfmiddlewaretoken": token.group(1)}
    assert client.post(url, data).status_code == 302
    assert Attachment.objects.count() == 1


def test_reader_sees_the_list_without_the_form_and_cannot_post(
    customer: Customer, owner: User, reader: User
) -> None:
    reader.team = owner.team
    reader.save()
    attach(customer, owner)
    client = client_for(reader)
    page = client.get(reverse("documents:list", args=[customer.pk]))
    assert page.status_code == 200
    assert b"contrato.pdf" in page.content and b'enctype="multipart/form-data"' not in page.content
    response = client.post(reverse("documents:list", args=[customer.pk]), {"file": pdf()})
    assert response.status_code == 403
    assert Attachment.objects.count() == 1


# --- The ficha's panel and the list: fixed query counts -----------------------------------


def _panel_queries(customer: Customer, user: User) -> tuple[int, dict[str, Any]]:
    request = RequestFactory().get("/")
    request.user = user
    with CaptureQueriesContext(connection) as ctx:
        context = document_panel(request, customer, user)
    return len(ctx.captured_queries), context


def test_panel_runs_a_fixed_number_of_queries(customer: Customer, owner: User) -> None:
    attach(customer, owner)
    few, context = _panel_queries(customer, owner)
    assert len(context["documents"]) == 1 and not context["more"]
    for i in range(7):
        attach(customer, owner, file=pdf(f"doc{i}.pdf"), private=i % 2 == 0)
    many, context = _panel_queries(customer, owner)
    assert many == few == 1
    assert len(context["documents"]) == 5 and context["more"]


def test_ficha_shows_the_panel(customer: Customer, owner: User) -> None:
    attach(customer, owner, description="Firmado", private=True)
    client = client_for(owner)
    client.cookies["cartera_language"] = "en"
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    html = page.content.decode()
    assert 'id="documents"' in html
    assert "contrato.pdf" in html and "Firmado" in html
    assert reverse("documents:list", args=[customer.pk]) in html
    assert 'enctype="multipart/form-data"' in html


def test_list_page_runs_a_fixed_number_of_queries(customer: Customer, owner: User) -> None:
    client = client_for(owner)
    url = reverse("documents:list", args=[customer.pk])
    attach(customer, owner)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    few = len(ctx.captured_queries)
    for i in range(6):
        attach(customer, owner, file=pdf(f"doc{i}.pdf"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    assert len(ctx.captured_queries) == few


# --- API ----------------------------------------------------------------------------------


def test_api_round_trip(customer: Customer, owner: User) -> None:
    client = Client(**bearer(owner))
    base = f"/api/customers/{customer.pk}/documents"

    # upload (multipart)
    created = client.post(
        base, {"file": pdf("Oferta Ñ.pdf"), "kind": "contract", "description": "Oferta"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Oferta_Ñ.pdf"
    assert (body["kind"], body["size"], body["private"]) == ("contract", len(PDF), False)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["uploaded_by"] == owner.pk

    # list and metadata
    listed = client.get(base).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    assert client.get(f"/api/documents/{body['id']}").json() == body

    # download
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")

    # delete
    assert client.delete(f"/api/documents/{body['id']}").status_code == 204
    assert client.get(f"/api/documents/{body['id']}").status_code == 404
    assert client.get(base).json()["count"] == 0


def test_api_errors_name_the_field(customer: Customer, owner: User, media: Path) -> None:
    client = Client(**bearer(owner))
    base = f"/api/customers/{customer.pk}/documents"
    refused = client.post(base, {"file": pdf("factura.pdf", EXE)})
    missing = client.post(base, {"kind": "other"})
    bad_kind = client.post(base, {"file": pdf(), "kind": "secret"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "file"]
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "file"]
    assert bad_kind.status_code == 422
    assert bad_kind.json()["detail"][0]["loc"][-1] == "kind"
    assert Attachment.objects.count() == 0
    assert stored_files(media) == []


def test_api_hides_documents_from_who_may_not_see_them(
    customer: Customer, owner: User, outsider: User, teammate: User, reader: User
) -> None:
    shared = attach(customer, owner)
    secret = attach(customer, owner, private=True)
    outside = Client(**bearer(outsider))
    assert outside.get(f"/api/customers/{customer.pk}/documents").status_code == 404
    assert (
        outside.post(f"/api/customers/{customer.pk}/documents", {"file": pdf()}).status_code == 404
    )
    for pk in (shared.pk, secret.pk):
        assert outside.get(f"/api/documents/{pk}").status_code == 404
        assert outside.get(f"/api/documents/{pk}/download").status_code == 404
        assert outside.delete(f"/api/documents/{pk}").status_code == 404
    mate = Client(**bearer(teammate))
    assert [
        d["id"] for d in mate.get(f"/api/customers/{customer.pk}/documents").json()["results"]
    ] == [shared.pk]
    assert mate.get(f"/api/documents/{secret.pk}/download").status_code == 404
    reader.team = owner.team
    reader.save()
    readonly = Client(**bearer(reader))
    assert (
        readonly.post(f"/api/customers/{customer.pk}/documents", {"file": pdf()}).status_code == 403
    )
    assert readonly.delete(f"/api/documents/{shared.pk}").status_code == 403
    assert Attachment.objects.count() == 2
