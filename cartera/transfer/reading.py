"""Reading spreadsheets row by row: CSV in any common delimiter and encoding, XLSX and ODS.

Rows are streamed: a file of a million rows is never held as Python objects at once. Each
row comes with its number as a spreadsheet program shows it (the header is row 1), and its
cells as read: text for CSV; for XLSX and ODS what the sheet stores (numbers, dates, text).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.utils.translation import gettext as _

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ";,\t|"
SAMPLE = 64 * 1024
BLOCK = 1024 * 1024
# Names a CSV file goes by; anything else that is not a spreadsheet is refused.
TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".tab", ""})
FIELD_LIMIT = 100_000  # characters in one CSV cell; a longer one is an error, not a hang
Cell = Any


class ImportFileError(ValueError):
    """The file cannot be read; the message says why (and where, when known)."""


@dataclass(frozen=True)
class FileOptions:
    format: str  # "csv", "xlsx" or "ods"
    encoding: str = ""
    delimiter: str = ""
    decimal: str = ","  # the decimal separator of numbers written as text

    def as_dict(self) -> dict[str, str]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileOptions:
        return cls(
            format=str(data.get("format", "csv")),
            encoding=str(data.get("encoding", "")),
            delimiter=str(data.get("delimiter", "")),
            decimal=str(data.get("decimal", ",")),
        )


def file_format(name: str, head: bytes) -> str:
    """``csv``, ``xlsx`` or ``ods`` from the content (the name only breaks ties)."""
    if head.startswith(b"PK\x03\x04"):
        return "ods" if b"application/vnd.oasis.opendocument.spreadsheet" in head[:200] else "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("Old Excel files (.xls) are not supported: save it as .xlsx."))
    suffix = PurePath(name).suffix.lower()
    if suffix in (".xlsx", ".ods", ".xls"):
        raise ImportFileError(_("This file is not a spreadsheet of the kind its name says."))
    if suffix not in TEXT_SUFFIXES or _looks_binary(head):
        raise ImportFileError(_("Upload a CSV, XLSX or ODS file."))
    return "csv"


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f")


def _looks_binary(head: bytes) -> bool:
    """Whether the start of a file is not text: UTF-16 aside, text holds few control bytes."""
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > len(head) * 0.05


def detect_encoding(stream: IO[bytes]) -> str:
    """UTF-16 when the file starts with its mark, else the first of UTF-8 (with or without
    BOM), Windows-1252 and Latin-1 that decodes the whole file strictly (Latin-1 always does)."""
    stream.seek(0)
    mark = stream.read(2)
    if mark in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    for encoding in ENCODINGS[:-1]:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            while block := stream.read(BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return ENCODINGS[-1]


def detect_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: csv.Sniffer, else the commonest candidate of line 1."""
    lines = sample.splitlines()
    if len(lines) > 1 and len(sample) >= SAMPLE:
        sample = "\n".join(lines[:-1])  # the last line may be cut
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def inspect(stream: IO[bytes], name: str) -> FileOptions:
    """How to read the file: its format and, for CSV, encoding, delimiter and decimal mark."""
    stream.seek(0)
    head = stream.read(SAMPLE)
    kind = file_format(name, head)
    if kind != "csv":
        return FileOptions(format=kind)
    if not head.strip():
        raise ImportFileError(_("The file is empty."))
    encoding = detect_encoding(stream)
    sample = head.decode(encoding, errors="replace")
    delimiter = detect_delimiter(sample.removeprefix("\ufeff"))
    # Spreadsheets that write ";" between cells write a decimal comma in numbers.
    decimal = "," if delimiter in ";\t" else "."
    return FileOptions(format="csv", encoding=encoding, delimiter=delimiter, decimal=decimal)


def rows(stream: IO[bytes], options: FileOptions) -> Generator[tuple[int, list[Cell]], None, None]:
    """(row number, cells) of every row, the header included (row 1)."""
    stream.seek(0)
    if options.format == "csv":
        yield from _csv_rows(stream, options)
    else:
        yield from _sheet_rows(stream)


def _csv_rows(stream: IO[bytes], options: FileOptions) -> Iterator[tuple[int, list[Cell]]]:
    text = io.TextIOWrapper(stream, encoding=options.encoding or "utf-8-sig", errors="replace",
                            newline="")  # fmt: skip
    csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(text, delimiter=options.delimiter or ",")
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:
        reason = _("a cell is longer than %(limit)s characters") % {"limit": FIELD_LIMIT}
        if "field limit" not in str(exc):
            reason = _("it holds characters or quotes a CSV file cannot hold")
        raise ImportFileError(
            _("Row %(row)s cannot be read: %(reason)s") % {"row": number + 1, "reason": reason}
        ) from exc
    finally:
        text.detach()  # the caller owns the stream


def _sheet_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[Cell]]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(stream)
        if not book.sheet_names:
            raise ImportFileError(_("The spreadsheet has no sheets."))
        sheet = book.get_sheet_by_index(0)
        first = sheet.start[0] if sheet.start else 0
        for number, cells in enumerate(sheet.iter_rows(), start=first + 1):
            yield number, list(cells)
    except ImportFileError:
        raise
    except (CalamineError, zipfile.BadZipFile, ValueError, TypeError, OSError) as exc:
        message = _("The spreadsheet cannot be read: it is damaged, or not an XLSX or ODS file.")
        raise ImportFileError(message) from exc


def is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def chunked(
    source: Iterator[tuple[int, list[Cell]]], size: int
) -> Iterator[list[tuple[int, list[Cell]]]]:
    """Rows in lists of ``size`` (the last one shorter): what is processed at once."""
    chunk: list[tuple[int, list[Cell]]] = []
    for item in source:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
