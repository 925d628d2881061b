"""A chart's table as CSV: the headers in the user's language, cells a spreadsheet will not run
as formulas."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import get_language

from cartera.insights.services import Chart

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text that starts like a formula gets a leading apostrophe: shown, never computed."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def chart_csv(chart: Chart) -> str:
    """Spanish: semicolons and decimal commas, as a Spanish spreadsheet reads them."""
    spanish = (get_language() or "").startswith("es")
    delimiter = ";" if spanish else ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_text(str(chart.label_header))] + [str(c.header) for c in chart.columns])
    for row in chart.rows:
        cells = [safe_text(row.label)]
        for column in chart.columns:
            value = row.values.get(column.key, 0)
            text = f"{value:.2f}" if isinstance(value, Decimal) and column.money else str(value)
            cells.append(text.replace(".", ",") if spanish else text)
        writer.writerow(cells)
    return "\ufeff" + out.getvalue()  # the BOM makes Excel read UTF-8
