"""Uploaded files are checked by size, extension and real content (real files built here)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import segno
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import translation

from cartera.core import uploads
from cartera.core.uploads import check_upload, detect_type

MB = 1024 * 1024


# --- Real small files --------------------------------------------------------------------------


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    segno.make_qr("Cartera").save(buffer, kind="pdf")
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A 1×1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def gif_bytes() -> bytes:
    """A 1×1 GIF with a two-colour palette."""
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b"\x3b"


def jpeg_bytes() -> bytes:
    """A 1×1 grey baseline JPEG: one-symbol Huffman tables, a single all-zero block."""

    def segment(marker: int, payload: bytes) -> bytes:
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_symbol = bytes([1] + [0] * 15) + b"\x00"
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + bytes([1] * 64))
        + segment(0xC0, b"\x08" + struct.pack(">HH", 1, 1) + b"\x01\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_symbol)
        + segment(0xC4, b"\x10" + one_symbol)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f\xff\xd9"
    )


def webp_bytes() -> bytes:
    """A 1×1 lossless WebP (VP8L): five one-symbol prefix codes, no transforms."""
    bits: list[int] = []

    def put(value: int, count: int) -> None:
        bits.extend((value >> i) & 1 for i in range(count))

    put(0, 3)  # no transform, no colour cache, no meta prefix codes
    for _ in range(3):  # green, red, blue: a single symbol, 0
        put(0b0001, 4)
    put(0b101, 3)  # alpha: a single 8-bit symbol...
    put(255, 8)  # ...255, opaque
    put(0b0001, 4)  # distance
    bits.extend([0] * (-len(bits) % 8))
    stream = bytes(
        sum(bit << i for i, bit in enumerate(bits[n : n + 8])) for n in range(0, len(bits), 8)
    )
    data = b"\x2f\x00\x00\x00\x00" + stream  # signature, 1×1, no alpha hint, version 0
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _zip(members: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(
                zipfile.ZipInfo(stored_first), members[stored_first], zipfile.ZIP_STORED
            )
        for name, content in members.items():
            if name != stored_first:
                archive.writestr(name, content)
    return buffer.getvalue()


_CONTENT_TYPES = (
    b'<?xml version="1.0"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


def docx_bytes() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document><w:body><w:p/></w:body></w:document>",
        }
    )


def xlsx_bytes() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": b"<Relationships/>",
            "xl/workbook.xml": b"<workbook><sheets/></workbook>",
            "xl/worksheets/sheet1.xml": b"<worksheet/>",
        }
    )


def opendocument_bytes(mimetype: str) -> bytes:
    return _zip(
        {
            "mimetype": mimetype.encode(),
            "content.xml": b"<office:document-content/>",
            "META-INF/manifest.xml": b"<manifest:manifest/>",
        },
        stored_first="mimetype",
    )


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def reason(error: pytest.ExceptionInfo[ValidationError]) -> str | None:
    return error.value.code


# --- The real content is recognised --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "expected"),
    [
        ("contrato.pdf", pdf_bytes, uploads.PDF),
        ("logo.png", png_bytes, uploads.PNG),
        ("foto.jpg", jpeg_bytes, uploads.JPEG),
        ("foto.jpeg", jpeg_bytes, uploads.JPEG),
        ("icono.gif", gif_bytes, uploads.GIF),
        ("imagen.webp", webp_bytes, uploads.WEBP),
        ("oferta.docx", docx_bytes, uploads.DOCX),
        ("clientes.xlsx", xlsx_bytes, uploads.XLSX),
        ("oferta.odt", lambda: opendocument_bytes(uploads.ODT), uploads.ODT),
        ("clientes.ods", lambda: opendocument_bytes(uploads.ODS), uploads.ODS),
        ("notas.txt", lambda: b"Llamar por la tarde.\n", uploads.TEXT),
        ("clientes.csv", lambda: "nombre;nif\nMuñoz SL;B12345674\n".encode(), uploads.TEXT),
    ],
)
def test_each_allowed_type_is_recognised_and_accepted(name: str, build: Any, expected: str) -> None:
    # given a real file of the type its name says
    file = upload(name, build())
    # when it is checked
    # then its content is recognised and it passes with the default rules
    assert detect_type(file) == expected
    check_upload(file, allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)


def test_spreadsheet_exports_in_latin1_and_with_a_bom_are_text() -> None:
    # given CSV files as Spanish spreadsheets export them
    latin1 = "nombre;población\nMuñoz;Logroño\r\n".encode("latin-1")
    windows = "importe\r\n12 €\r\n".encode("cp1252")
    with_bom = "\ufeffnombre;ciudad\nPeña;Cádiz\n".encode()
    # then each one is accepted as text
    for content in (latin1, windows, with_bom, latin1 + b"\x1a"):
        check_upload(upload("export.csv", content), allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)


def test_a_multibyte_character_cut_at_the_read_limit_is_still_text() -> None:
    # given a UTF-8 text whose first 64 KiB end in the middle of an "ñ"
    content = b"a" * (64 * 1024 - 1) + "ñ".encode() + b"\n"
    # then it is text
    assert detect_type(upload("largo.txt", content)) == uploads.TEXT


# --- What is refused, and why -----------------------------------------------------------------


def test_too_big_is_refused_naming_the_limit() -> None:
    # given a file one byte over the limit
    file = upload("escaneo.pdf", pdf_bytes() + b"\n" * 2000)
    limit = file.size - 1
    # when checked
    with translation.override("en"), pytest.raises(ValidationError) as error:
        check_upload(file, allowed=uploads.DEFAULT_ALLOWED, max_bytes=limit)
    # then it is refused as too big, naming the file
    assert reason(error) == "too_big"
    assert "escaneo.pdf" in error.value.messages[0]
    # and exactly at the limit it passes
    check_upload(file, allowed=uploads.DEFAULT_ALLOWED, max_bytes=file.size)


def test_the_default_size_limit_comes_from_the_settings(settings: Any) -> None:
    # given a limit of 1 MB
    settings.CARTERA_UPLOAD_MAX_MB = 1
    small = upload("notas.txt", b"x" * MB)
    big = upload("notas.txt", b"x" * (MB + 1))
    # then a file of 1 MB passes and one byte more does not
    check_upload(small)
    with pytest.raises(ValidationError) as error:
        check_upload(big)
    assert reason(error) == "too_big"


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        check_upload(upload("vacio.csv", b""), allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)
    assert reason(error) == "empty"


@pytest.mark.parametrize("name", ["programa.exe", "script.sh", "pagina.html", "sin_extension"])
def test_extensions_outside_the_list_are_refused(name: str) -> None:
    # given a harmless text content under a name that is not allowed
    file = upload(name, b"hola\n")
    # then the type is refused before the content is looked at
    with translation.override("en"), pytest.raises(ValidationError) as error:
        check_upload(file, allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)
    assert reason(error) == "type_not_allowed"
    assert "pdf" in error.value.messages[0]  # the message lists what is allowed


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("factura.png", pdf_bytes()),  # a PDF named as an image
        ("foto.jpg", png_bytes()),  # a PNG named as a JPEG
        ("contrato.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),  # a Windows program
        ("notas.txt", png_bytes()),  # binary data named as text
        ("datos.csv", b"nombre\x00apellido\n"),  # NUL bytes are not text
        ("oferta.docx", _zip({"leeme.txt": b"hola"})),  # any ZIP is not a Word document
        ("clientes.xlsx", docx_bytes()),  # a Word document named as a workbook
        ("clientes.ods", opendocument_bytes(uploads.ODT)),  # a text document as a sheet
        ("oferta.pdf", b"%PDX-1.4 not really"),  # close is not enough
        ("oferta.docx", b"PK\x03\x04 broken archive"),  # a ZIP header with nothing behind
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(name: str, content: bytes) -> None:
    # when the file is checked
    with translation.override("en"), pytest.raises(ValidationError) as error:
        check_upload(upload(name, content), allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)
    # then the reason is the mismatch, named in the message
    assert reason(error) == "content_mismatch"
    assert "does not match its extension" in error.value.messages[0]


def test_messages_are_translated_to_spanish() -> None:
    # given a file that does not match its extension, checked for a Spanish user
    file = upload("factura.png", pdf_bytes())
    with translation.override("es"), pytest.raises(ValidationError) as error:
        check_upload(file, allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)
    with translation.override("es"):
        expected = translation.gettext(
            "The content of %(name)s does not match its extension .%(extension)s."
        ) % {"name": "factura.png", "extension": "png"}
    # then the message is the Spanish catalogue's
    assert error.value.messages == [expected]


# --- The options and the kinds of file objects --------------------------------------------------


def test_extension_case_does_not_matter_and_the_map_decides() -> None:
    # given a map that only accepts PDFs, written with a dot and in capitals
    allowed = {".PDF": {uploads.PDF}}
    # then an upper-case .PDF passes and a PNG does not
    check_upload(upload("CONTRATO.PDF", pdf_bytes()), allowed=allowed, max_bytes=MB)
    with pytest.raises(ValidationError) as error:
        check_upload(upload("logo.png", png_bytes()), allowed=allowed, max_bytes=MB)
    assert reason(error) == "type_not_allowed"


def test_the_default_extensions_come_from_the_settings(settings: Any) -> None:
    # given only PDF and CSV allowed
    settings.CARTERA_UPLOAD_EXTENSIONS = ["pdf", "csv"]
    # then a PNG is refused and a CSV accepted
    with pytest.raises(ValidationError) as error:
        check_upload(upload("logo.png", png_bytes()))
    assert reason(error) == "type_not_allowed"
    check_upload(upload("clientes.csv", b"a;b\n1;2\n"))


def test_a_file_on_disk_is_checked_and_left_at_its_start(tmp_path: Path) -> None:
    # given a large upload Django spooled to a temporary file, already read a little
    file = TemporaryUploadedFile("libro.xlsx", "application/octet-stream", 0, None)
    file.write(xlsx_bytes())
    file.size = file.tell()
    file.seek(10)
    # when it is checked
    check_upload(file, allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)
    # then the reader is where it was, ready for whoever saves the file
    assert file.tell() == 10
    file.close()


def test_a_plain_binary_file_object_is_measured_and_checked(tmp_path: Path) -> None:
    # given a plain file opened from disk (an import run from the command line)
    path = tmp_path / "foto.webp"
    path.write_bytes(webp_bytes())
    with path.open("rb") as handle:
        # then its size is measured and its content recognised
        check_upload(handle, allowed=uploads.DEFAULT_ALLOWED, max_bytes=MB)
        with pytest.raises(ValidationError) as error:
            check_upload(handle, allowed=uploads.DEFAULT_ALLOWED, max_bytes=10)
        assert reason(error) == "too_big"
        assert handle.tell() == 0
