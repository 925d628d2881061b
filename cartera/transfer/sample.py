"""The downloadable XLSX template: the headers the import recognises, and instructions."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from cartera.transfer.fields import FIELDS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The columns of the template, in this order (the others can be added by hand).
TEMPLATE_FIELDS = ("legal_name", "trade_name", "tax_id", "kind", "stage", "phone", "email",
                   "website", "street", "postal_code", "municipality", "region", "country",
                   "owner", "notes")  # fmt: skip
EXAMPLE = ("Muñoz y Asociados SL", "Muñoz", "B12345674", "", "Cliente", "+34 600 11 22 33",
           "info@munoz.example", "www.munoz.example", "Calle Mayor 28", "28013", "Madrid",
           "Madrid", "España", "", "Llamar por la tarde")  # fmt: skip


def build_template() -> bytes:
    labels = {f.key: str(f.label) for f in FIELDS}
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Customers")[:31]
    sheet.append([labels[key] for key in TEMPLATE_FIELDS])
    sheet.append(list(EXAMPLE))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter in "ABCDEFGHIJKLMNO":
        sheet.column_dimensions[letter].width = 22
    help_sheet = book.create_sheet(_("Instructions")[:31])
    lines = [
        _("How to fill in this file"),
        "",
        _("One customer per row; the first row holds the column names."),
        _("Only the legal name is required; a lead also needs a phone or an e-mail."),
        _("A client must be invoiceable: tax id and a complete fiscal address."),
        _("Dates as dd/mm/yyyy; amounts with a decimal comma or point."),
        _("Stage: lead, prospect, client, former or lost (in Spanish or English)."),
        _("Owner: the user name or full name of an active user; empty means you."),
        _("Delete the example row before importing."),
        "",
        _("Columns recognised (any of these headers, accents and case ignored):"),
    ]
    for line in lines:
        help_sheet.append([line])
    help_sheet["A1"].font = Font(bold=True, size=14)
    for field in FIELDS:
        help_sheet.append([str(field.label), ", ".join(field.headers)])
    help_sheet.column_dimensions["A"].width = 40
    help_sheet.column_dimensions["B"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_response() -> HttpResponse:
    response = HttpResponse(build_template(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_("customers")}-cartera.xlsx"'
    return response
