"""Real spreadsheet files made by the tests: CSV in any encoding, XLSX (openpyxl), ODS (odfpy)."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import valid_cif

SPANISH_HEADERS = ["Razón social", "NIF", "Teléfono", "Correo electrónico", "Dirección",
                   "C.P.", "Población", "Provincia", "País", "Etapa", "Facturación anual",
                   "Cliente desde", "Observaciones"]  # fmt: skip


def spanish_row(i: int, **overrides: Any) -> list[Any]:
    row = {
        "name": f"Suministros Número {i} SL", "tax_id": valid_cif(3000000 + i),
        "phone": f"6{10000000 + i}", "email": f"compras{i}@cliente{i}.example",
        "street": f"Calle Ñandú {i}", "postal": "28013", "town": "Madrid", "province": "Madrid",
        "country": "España", "stage": "Cliente", "revenue": "1.234,56",
        "since": "01/02/2024", "notes": "Llamar por la tarde",
    }  # fmt: skip
    row.update(overrides)
    return list(row.values())


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ";"
              ) -> bytes:  # fmt: skip
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def xlsx_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """An XLSX as Excel stores it: numbers as numbers, dates as date cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    for cell in sheet["L"][1:]:
        if isinstance(cell.value, datetime.date):
            cell.number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """An ODS spreadsheet written with odfpy (text and float cells)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Clientes")
    for row in rows:
        tr = TableRow()
        for value in row:
            if isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()
