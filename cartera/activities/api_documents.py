"""REST endpoints of a customer's documents: list, upload (multipart), metadata, download,
delete. The same services as the pages; invisible documents and customers are 404."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from cartera.accounts.models import User
from cartera.activities import documents
from cartera.activities.document_views import file_response
from cartera.activities.models import Attachment
from cartera.activities.services import ActivityInvalid
from cartera.core.schema import Text
from cartera.customers.api import MAX_PAGE, ErrorOut
from cartera.customers.models import Customer

router = Router(tags=["documents"])

KindCode = Literal["contract", "invoice", "other"]


class DocumentOut(Schema):
    id: int
    customer: int
    kind: str
    name: str = Field(description="The original file name, cleaned")
    description: str
    content_type: str = Field(description="The type the content showed when it was checked")
    size: int = Field(description="Bytes")
    sha256: str
    private: bool = Field(description="Seen only by its uploader and the administrators")
    uploaded_by: int | None
    uploaded_by_name: str
    uploaded_at: datetime.datetime
    download_url: str


class DocumentPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[DocumentOut]


class DocumentIn(Schema):
    kind: KindCode = "other"
    description: Text = Field("", max_length=documents.DESCRIPTION_MAX)
    private: bool = False


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _document(request: HttpRequest, pk: int) -> Attachment:
    visible = Attachment.objects.visible_to(request.user).select_related("uploaded_by")
    return get_object_or_404(visible, pk=pk)


def serialize(item: Attachment) -> dict[str, Any]:
    uploader = item.uploaded_by
    return {
        "id": item.pk,
        "customer": item.customer_id,
        "kind": item.kind,
        "name": item.name,
        "description": item.description,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
        "private": item.private,
        "uploaded_by": uploader.pk if uploader else None,
        "uploaded_by_name": str(uploader) if uploader else "",
        "uploaded_at": item.uploaded_at,
        "download_url": reverse("api:download_document", args=[item.pk]),
    }


@router.get(
    "/customers/{int:customer_id}/documents",
    response={200: DocumentPage, 404: ErrorOut, 422: ErrorOut},
    summary="A customer's documents, newest first",
)
def list_documents(
    request: HttpRequest,
    customer_id: int,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(25, ge=1, le=200),
) -> Any:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_id)
    items = documents.documents_of(customer, request.user)
    start = (page - 1) * page_size
    return {
        "count": items.count(),
        "page": page,
        "page_size": page_size,
        "results": [serialize(d) for d in items[start : start + page_size]],
    }


@router.post(
    "/customers/{int:customer_id}/documents",
    response={201: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Attach a file (multipart/form-data: file, kind, description, private)",
)
def upload_document(
    request: HttpRequest,
    customer_id: int,
    payload: Form[DocumentIn],
    file: File[UploadedFile | None] = None,  # the service says 422 on body.file if missing
) -> Any:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_id)
    try:
        item = documents.attach_document(
            customer=customer, file=file, by=_user(request), **payload.model_dump()
        )
    except ActivityInvalid as exc:
        return _invalid(exc)
    return Status(201, serialize(item))


@router.get(
    "/documents/{int:document_id}",
    response={200: DocumentOut, 404: ErrorOut},
    summary="A document's details",
)
def get_document(request: HttpRequest, document_id: int) -> Any:
    return serialize(_document(request, document_id))


@router.get(
    "/documents/{int:document_id}/download",
    response={404: ErrorOut},
    summary="The file, as an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file's bytes; its type in Content-Type",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_document(request: HttpRequest, document_id: int) -> HttpResponseBase:
    return file_response(_document(request, document_id), by=_user(request))


@router.delete(
    "/documents/{int:document_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a document and its file",
)
def delete_document(request: HttpRequest, document_id: int) -> Any:
    documents.delete_document(attachment=_document(request, document_id), by=_user(request))
    return Status(204, None)


def _invalid(exc: ActivityInvalid) -> Status[dict[str, Any]]:
    detail = [
        {"loc": ["body", field], "msg": str(message), "type": "invalid"}
        for field, messages in exc.messages_by_field.items()
        for message in messages
    ]
    return Status(422, {"detail": detail})
