"""Checks on uploaded files: size, extension, and a content that matches the extension.

The type is told from the file's first bytes (and, for ZIP-based office documents, from
the members of the archive), never from the name or the browser's declared content type.
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Mapping
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
TEXT = "text/plain"
CSV = "text/csv"

# Plain text has no magic number: any of these accepts a file whose content is text.
TEXT_TYPES = frozenset({TEXT, CSV, "text/tab-separated-values"})

DEFAULT_ALLOWED: dict[str, frozenset[str]] = {
    "pdf": frozenset({PDF}),
    "png": frozenset({PNG}),
    "jpg": frozenset({JPEG}),
    "jpeg": frozenset({JPEG}),
    "gif": frozenset({GIF}),
    "webp": frozenset({WEBP}),
    "docx": frozenset({DOCX}),
    "xlsx": frozenset({XLSX}),
    "odt": frozenset({ODT}),
    "ods": frozenset({ODS}),
    "txt": frozenset({TEXT}),
    "csv": frozenset({CSV, TEXT}),
}

_HEAD = 64 * 1024  # how much of a file is read to tell text from binary
# C0 control characters that do not occur in text files: tab, LF, FF, CR are fine, and so
# is the Ctrl-Z that old Windows programs put at the end of a text file.
_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])
_OOXML_MAIN_PARTS = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}


def default_max_bytes() -> int:
    return int(getattr(settings, "CARTERA_UPLOAD_MAX_MB", 20)) * 1024 * 1024


def default_allowed() -> Mapping[str, Collection[str]]:
    """The extensions of ``CARTERA_UPLOAD_EXTENSIONS`` with the types their content may have."""
    extensions = getattr(settings, "CARTERA_UPLOAD_EXTENSIONS", DEFAULT_ALLOWED.keys())
    return {
        ext.lower(): DEFAULT_ALLOWED[ext.lower()]
        for ext in extensions
        if ext.lower() in DEFAULT_ALLOWED
    }


def check_upload(
    file: Any,
    *,
    allowed: Mapping[str, Collection[str]] | None = None,
    max_bytes: int | None = None,
) -> None:
    """Raise ``ValidationError`` unless the file is small enough and really of an allowed type.

    ``allowed`` maps an extension (without the dot) to the MIME types its content may have;
    both default to the ``CARTERA_UPLOAD_*`` settings.
    """
    allowed = default_allowed() if allowed is None else allowed
    max_bytes = default_max_bytes() if max_bytes is None else max_bytes
    name = PurePath(str(getattr(file, "name", "") or "")).name
    size = _size(file)

    if size > max_bytes:
        raise ValidationError(
            _("The file %(name)s is too big (%(size)s): the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
            code="too_big",
        )
    if size == 0:
        raise ValidationError(_("The file %(name)s is empty.") % {"name": name}, code="empty")

    extension = PurePath(name).suffix.lower().lstrip(".")
    accepted = {ext.lower().lstrip("."): types for ext, types in allowed.items()}
    if extension not in accepted:
        raise ValidationError(
            _("Files of this type are not allowed (%(name)s). Allowed types: %(allowed)s.")
            % {"name": name, "allowed": ", ".join(sorted(accepted))},
            code="type_not_allowed",
        )

    detected = detect_type(file)
    types = set(accepted[extension])
    matches = detected in types or (detected == TEXT and bool(types & TEXT_TYPES))
    if not matches:
        raise ValidationError(
            _("The content of %(name)s does not match its extension .%(extension)s.")
            % {"name": name, "extension": extension},
            code="content_mismatch",
        )


def detect_type(file: Any) -> str | None:
    """The MIME type the content shows, or None when it is none we recognise."""
    stream = _stream(file)
    seekable = stream.seekable()
    position = stream.tell() if seekable else 0
    try:
        if seekable:
            stream.seek(0)  # whoever read part of it already, the type is at the start
        head = stream.read(_HEAD) or b""
        if isinstance(head, str):  # a text-mode file: it is text by construction
            return TEXT if "\x00" not in head else None
        kind = _magic(head)
        if kind == ZIP and seekable:
            stream.seek(0)
            kind = _zip_kind(stream)
        elif kind is None and _looks_like_text(head):
            kind = TEXT
        return kind
    finally:
        if seekable:
            stream.seek(position)


def _magic(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    return None


def _zip_kind(stream: IO[bytes]) -> str:
    """Tell an OOXML or OpenDocument file from any other ZIP archive by its members."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # OpenDocument keeps its type, uncompressed, in a first member named mimetype.
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared in {ODT, ODS}:
                    return declared
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML_MAIN_PARTS.items():
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, KeyError, OSError, EOFError):
        pass
    return ZIP


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 or Latin-1 text: no NUL nor the other control bytes that text never holds.

    Latin-1 (and Windows-1252, which Spanish spreadsheets export) gives a meaning to every
    other byte, so the control bytes are what tell text from binary data.
    """
    return bool(head) and len(head.translate(None, _BINARY_BYTES)) == len(head)


def _stream(file: Any) -> IO[Any]:
    """The readable object behind a Django File, UploadedFile or plain file object."""
    if hasattr(file, "open") and getattr(file, "closed", False):
        file.open("rb")
    return getattr(file, "file", None) or file


def _size(file: Any) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    stream = _stream(file)
    position = stream.tell()
    stream.seek(0, 2)
    end = stream.tell()
    stream.seek(position)
    return int(end)
