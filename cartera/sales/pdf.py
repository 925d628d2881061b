"""The printable PDF of a sales document, in Spanish, with both parties' fiscal data.

fpdf2's core fonts with the Windows-1252 encoding cover Spanish (á, ñ, ¿, €, º): no font file
is needed. Characters outside it are replaced rather than failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from cartera.core.countries import country_name
from cartera.sales.models import DocumentLine, SalesDocument
from cartera.sales.pricing import compute_totals

ENCODING = "windows-1252"


def _text(value: object) -> str:
    return str(value or "").encode(ENCODING, "replace").decode(ENCODING)


def _money(value: Decimal, currency: str) -> str:
    return f"{formats.number_format(value, 2, use_l10n=True, force_grouping=True)} {currency}"


def _number(value: Decimal, places: int | None = None) -> str:
    """A number as written in Spanish; ``places=None`` drops trailing zeros (2,5 not 2,500)."""
    if places is None:
        value = Decimal(format(value.normalize(), "f"))
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 10, _text(self.footer_text), align="C")


def render_pdf(document: SalesDocument, lines: Sequence[DocumentLine]) -> bytes:
    """The document as PDF bytes (always in Spanish: it is what the customer receives)."""
    with translation.override("es"):
        return _render(document, lines)


def _render(document: SalesDocument, lines: Sequence[DocumentLine]) -> bytes:
    company = document.fiscal.get("company", {})
    customer = document.fiscal.get("customer", {})
    pdf = _Pdf(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.footer_text = _("%(code)s · page %(page)s") % {"code": document.code, "page": "{nb}"}
    pdf.set_title(_text(f"{document.get_type_display()} {document.code}"))
    pdf.set_author(_text(company.get("legal_name")))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 9, _text(company.get("trade_name") or company.get("legal_name")), new_x="LMARGIN",
             new_y="NEXT")  # fmt: skip
    pdf.set_font("helvetica", size=9)
    for line in (
        company.get("legal_name"),
        f"{_('Tax id')}: {company.get('tax_id')}" if company.get("tax_id") else "",
        company.get("address"),
        country_name(company.get("country", "")),
        " · ".join(p for p in [company.get("phone"), company.get("email")] if p),
    ):
        if line:
            pdf.cell(0, 4.5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    top = pdf.get_y()
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(90, 7, _text(f"{document.get_type_display()} {document.code}"), new_x="LMARGIN",
             new_y="NEXT")  # fmt: skip
    pdf.set_font("helvetica", size=9)
    facts = [
        (_("Date"), formats.date_format(document.issue_date, "d/m/Y")),
        (_("State"), document.get_state_display()),
    ]
    if document.valid_until:
        facts.append((_("Valid until"), formats.date_format(document.valid_until, "d/m/Y")))
    if document.due_date:
        facts.append((_("Due date"), formats.date_format(document.due_date, "d/m/Y")))
    if document.customer_reference:
        facts.append((_("Your purchase order"), document.customer_reference))
    if document.source_id:
        facts.append((_("Made from"), document.source.code if document.source else ""))
    for label, value in facts:
        pdf.cell(90, 4.5, _text(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    # The customer's fiscal data, boxed on the right.
    pdf.set_xy(110, top)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(90, 5, _text(_("Customer")), new_x="LEFT", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    for line in (
        customer.get("legal_name"),
        customer.get("trade_name")
        if customer.get("trade_name") != customer.get("legal_name")
        else "",
        f"{_('Tax id')}: {customer.get('tax_id')}" if customer.get("tax_id") else "",
        customer.get("address"),
        f"{_('Customer code')}: {customer.get('code')}",
    ):
        if line:
            pdf.multi_cell(90, 4.5, _text(line), new_x="LEFT", new_y="NEXT")
    pdf.rect(108, top - 1, 94, pdf.get_y() - top + 2)
    pdf.set_y(max(bottom, pdf.get_y()) + 6)
    _lines_table(pdf, document, lines)
    _totals(pdf, document, lines)
    if document.notes:
        pdf.ln(4)
        pdf.set_font("helvetica", size=8)
        pdf.multi_cell(0, 4, _text(document.notes))
    return bytes(pdf.output())


WIDTHS = (84, 18, 26, 16, 14, 32)


def _lines_table(pdf: FPDF, document: SalesDocument, lines: Sequence[DocumentLine]) -> None:
    heads = (_("Description"), _("Quantity"), _("Unit price"), _("Disc. %"), _("Tax %"),
             _("Amount"))  # fmt: skip
    pdf.set_font("helvetica", "B", 8)
    pdf.set_fill_color(235)
    for width, head, align in zip(WIDTHS, heads, "LRRRRR", strict=True):
        pdf.cell(width, 6, _text(head), border="B", align=align, fill=True)
    pdf.ln()
    pdf.set_font("helvetica", size=8)
    for line in lines:
        y = pdf.get_y()
        pdf.multi_cell(WIDTHS[0], 5, _text(line.description), new_x="RIGHT", new_y="TOP")
        height = max(pdf.get_y() - y, 5)
        values = (
            _number(line.quantity),
            _number(line.unit_price, 2 if line.unit_price == round(line.unit_price, 2) else None),
            _number(line.discount_percent) if line.discount_percent else "",
            _number(line.tax_rate),
            _money(line.amount, document.currency),
        )
        for width, value in zip(WIDTHS[1:], values, strict=True):
            pdf.cell(width, 5, _text(value), align="R")
        pdf.set_y(y + height)
    pdf.ln(2)


def _totals(pdf: FPDF, document: SalesDocument, lines: Sequence[DocumentLine]) -> None:
    totals = compute_totals((line.amount, line.tax_rate) for line in lines)
    pdf.set_font("helvetica", size=9)
    x = 110
    for rate in totals.by_rate:
        label = _("Base at %(rate)s %%") % {"rate": _number(rate.rate)}
        pdf.set_x(x)
        pdf.cell(55, 5, _text(label))
        pdf.cell(35, 5, _text(_money(rate.base, document.currency)), align="R",
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        pdf.set_x(x)
        pdf.cell(55, 5, _text(_("Tax at %(rate)s %%") % {"rate": _number(rate.rate)}))
        pdf.cell(35, 5, _text(_money(rate.tax, document.currency)), align="R",
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("helvetica", "B", 11)
    pdf.set_x(x)
    pdf.cell(55, 7, _text(_("Total")), border="T")
    pdf.cell(35, 7, _text(_money(totals.total, document.currency)), border="T", align="R",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
