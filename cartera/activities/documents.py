"""Documents attached to a customer: upload, download and delete.

Files go to Django's default storage under a random name (``attachment_path``); the
original name is kept, cleaned, in the row. Their type is told from the content and
their size is limited (``CARTERA_ATTACHMENT_TYPES``, ``CARTERA_ATTACHMENT_MAX_MB``).
Private documents are seen only by their uploader and by administrators.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Collection, Mapping
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.activities.models import (
    Attachment,
    AttachmentKind,
    AttachmentQuerySet,
    EntryKind,
    TimelineEntry,
)
from cartera.activities.services import ActivityInvalid, add_entry
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.core import uploads
from cartera.customers.models import Customer

logger = logging.getLogger(__name__)

NAME_MAX = 200  # Attachment.name
DESCRIPTION_MAX = 300  # Attachment.description
FALLBACK_NAME = "document"


# --- Settings -------------------------------------------------------------------------


def allowed_types() -> Mapping[str, Collection[str]]:
    """The extensions of ``CARTERA_ATTACHMENT_TYPES`` with the types their content may have."""
    extensions = getattr(settings, "CARTERA_ATTACHMENT_TYPES", uploads.DEFAULT_ALLOWED.keys())
    return {
        ext.lower().lstrip("."): uploads.DEFAULT_ALLOWED[ext.lower().lstrip(".")]
        for ext in extensions
        if ext.lower().lstrip(".") in uploads.DEFAULT_ALLOWED
    }


def max_bytes() -> int:
    return int(getattr(settings, "CARTERA_ATTACHMENT_MAX_MB", 20)) * 1024 * 1024


def accept_attribute() -> str:
    """The file input's ``accept``: a hint for the browser's picker, never a check."""
    return ",".join(f".{ext}" for ext in sorted(allowed_types()))


# --- Names ----------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """The original file name, safe to show and to send back in Content-Disposition.

    No folders, no control or shell characters (Django's ``get_valid_filename``: letters,
    accented ones included, digits, ``-``, ``_`` and ``.``), at most 200 characters with
    the extension kept.
    """
    base = PurePosixPath(str(name or "").replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    try:
        cleaned = get_valid_filename(base)
    except SuspiciousFileOperation:
        cleaned = ""
    cleaned = cleaned.lstrip("._-") or FALLBACK_NAME
    if len(cleaned) > NAME_MAX:
        suffix = PurePosixPath(cleaned).suffix[:20]
        cleaned = cleaned[: NAME_MAX - len(suffix)] + suffix
    return cleaned


# --- Who may do what ------------------------------------------------------------------


def documents_of(customer: Customer, user: Any) -> AttachmentQuerySet:
    """The customer's documents the user may see, newest first, with their uploader."""
    return (
        Attachment.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def may_attach(customer: Customer, user: Any) -> bool:
    """Anyone who may write and sees the customer may attach a document to it."""
    return bool(
        getattr(user, "can_write", False)
        and Customer.objects.visible_to(user).filter(pk=customer.pk).exists()
    )


def may_delete(attachment: Attachment, user: Any) -> bool:
    """The uploader, or whoever may edit the customer; private ones: uploader and admins."""
    if not getattr(user, "can_write", False):
        return False
    if not Attachment.objects.visible_to(user).filter(pk=attachment.pk).exists():
        return False
    editable = Customer.objects.editable_by(user).filter(pk=attachment.customer_id).exists()
    return may_delete_known(attachment, user, can_edit_customer=editable)


def may_delete_known(attachment: Attachment, user: Any, *, can_edit_customer: bool) -> bool:
    """``may_delete`` for a document already read through ``visible_to``, without queries."""
    if not getattr(user, "can_write", False):
        return False
    if attachment.uploaded_by_id == user.pk or user.is_admin:
        return True
    return can_edit_customer and not attachment.private


# --- Use cases ------------------------------------------------------------------------


def attach_document(
    *,
    customer: Customer,
    file: Any,
    by: User,
    kind: str = AttachmentKind.OTHER,
    description: str = "",
    private: bool = False,
) -> Attachment:
    """Store a file for a customer, with a timeline line and an audit record.

    The content must be of an allowed type whatever its name says, and within the size
    limit; ``ActivityInvalid`` names the field otherwise and nothing is stored.
    """
    if not may_attach(customer, by):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    kind = kind or AttachmentKind.OTHER
    if kind not in AttachmentKind.values:
        errors["kind"] = [_("Select a valid choice.")]
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [
            _("Write at most %(limit)s characters.") % {"limit": DESCRIPTION_MAX}
        ]
    elif "\x00" in description:
        errors["description"] = [_("Remove the control characters from this text.")]
    content_type = ""
    name = FALLBACK_NAME
    if file is None:
        errors["file"] = [_("Choose a file to upload.")]
    else:
        file = file if isinstance(file, File) else File(file, name=getattr(file, "name", None))
        name = clean_name(file.name or "")
        try:
            uploads.check_upload(_Named(file, name), allowed=allowed_types(), max_bytes=max_bytes())
        except ValidationError as exc:
            errors["file"] = list(exc.messages)
        else:
            content_type = _content_type(file, name)
    if errors:
        raise ActivityInvalid(errors)

    digest, size = checksum(file)
    attachment = Attachment(
        customer=customer,
        kind=kind,
        description=description,
        name=name,
        content_type=content_type,
        size=size,
        sha256=digest,
        private=bool(private),
        uploaded_by=by,
    )
    # The storage write is not part of the transaction: undo it if the rows cannot be saved.
    attachment.file.save(name, file, save=False)
    try:
        with transaction.atomic():
            attachment.save()
            add_entry(
                customer, EntryKind.DOCUMENT, by=by, attachment=attachment, data=_data(attachment)
            )
            audit.record(
                action=Action.CREATE,
                object_type="attachment",
                object_id=attachment.pk,
                label=_label(attachment),
                customer_id=customer.pk,
                by=by,
                changes=_changes(attachment),
            )
    except BaseException:
        attachment.file.storage.delete(_stored(attachment))
        raise
    return attachment


def delete_document(*, attachment: Attachment, by: User) -> None:
    """Remove a document: the row now, the stored file once the transaction commits.

    The upload's line stays on the timeline with the file's name (private documents'
    lines go with them, as nobody else could see them).
    """
    if not may_delete(attachment, by):
        raise PermissionDenied
    storage, stored = attachment.file.storage, _stored(attachment)
    with transaction.atomic():
        audit.record(
            action=Action.DELETE,
            object_type="attachment",
            object_id=attachment.pk,
            label=_label(attachment),
            customer_id=attachment.customer_id,
            by=by,
            changes=_changes(attachment, removed=True),
        )
        if not attachment.private:
            TimelineEntry.objects.filter(attachment=attachment).update(
                attachment=None, data={**_data(attachment), "deleted": True}
            )
        attachment.delete()
        transaction.on_commit(lambda: _remove(storage, stored))


def open_document(attachment: Attachment, *, by: User) -> File:
    """The stored file, opened for reading; the access is logged. 404 if the file is gone."""
    try:
        handle = attachment.file.storage.open(_stored(attachment), "rb")
    except (FileNotFoundError, OSError) as exc:
        logger.warning("document %s: stored file %s missing", attachment.pk, attachment.file.name)
        raise Http404(_("The file of this document is missing.")) from exc
    audit.record_access(
        by=by,
        object_type="attachment",
        object_id=attachment.pk,
        label=_label(attachment),
        customer_id=attachment.customer_id,
    )
    return handle


# --- Helpers ----------------------------------------------------------------------------


def checksum(file: File) -> tuple[str, int]:
    """SHA-256 and size read chunk by chunk: a big upload is never held in memory whole."""
    digest = hashlib.sha256()
    size = 0
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    if file.seekable():
        file.seek(0)
    return digest.hexdigest(), size


class _Named:
    """A file seen under its cleaned name, for the extension check."""

    def __init__(self, file: File, name: str) -> None:
        self.file = file.file
        self.name = name
        self.size = file.size


def _stored(attachment: Attachment) -> str:
    return str(attachment.file.name or "")


def _content_type(file: File, name: str) -> str:
    detected = uploads.detect_type(file) or "application/octet-stream"
    if detected == uploads.TEXT and name.lower().endswith(".csv"):
        return uploads.CSV
    return detected


def _label(attachment: Attachment) -> str:
    # A private document's name is not written where everyone who sees the customer reads.
    return f"#{attachment.pk}" if attachment.private else attachment.name


def _changes(attachment: Attachment, *, removed: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": attachment.kind, "size": attachment.size}
    if not attachment.private:
        fields |= {"name": attachment.name, "description": attachment.description}
    fields["private"] = attachment.private
    return {k: [v, None] if removed else [None, v] for k, v in fields.items() if v != ""}


def _data(attachment: Attachment) -> dict[str, Any]:
    return {"name": attachment.name, "size": attachment.size, "kind": attachment.kind}


def _remove(storage: Any, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:  # the row is gone already; a leftover file is only disk space
        logger.exception("could not remove the stored file %s", name)
