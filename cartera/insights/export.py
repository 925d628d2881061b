"""A chart's table as CSV: the headers in the user's language, cells a spreadsheet will not run
as formulas."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import get_language

from cartera.core.spreadsheets import neutralise
from cartera.insights.services import Chart


def chart_csv(chart: Chart) -> str:
    """Spanish: semicolons and decimal commas, as a Spanish spreadsheet reads them."""
    spanish = (get_language() or "").startswith("es")
    delimiter = ";" if spanish else ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    headers = [str(chart.label_header)] + [str(c.header) for c in chart.columns]
    writer.writerow([neutralise(h) for h in headers])
    for row in chart.rows:
        cells = [neutralise(row.label)]
        for column in chart.columns:
            value = row.values.get(column.key, 0)
            text = f"{value:.2f}" if isinstance(value, Decimal) and column.money else str(value)
            cells.append(text.replace(".", ",") if spanish else text)
        writer.writerow(cells)
    return "\ufeff" + out.getvalue()  # the BOM makes Excel read UTF-8
