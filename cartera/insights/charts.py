"""Charts as inline SVG written on the server: no JavaScript, no chart library, no CDN.

Each chart has a <title> and a <desc>, its bars lead to the customer list they count (an
<a> around each bar), every bar carries its value as text, and the page puts the same
figures in a table under it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cartera.insights.services import Chart, Column, Number, Row

WIDTH = 640
LABEL_W = 190
VALUE_W = 96
ROW_H = 30
BAR_H = 18
PRIMARY = "#1d4ed8"
# The same colour for the same thing on every chart (and the legend).
COLOURS = {
    "lead": "#93c5fd", "prospect": "#3b82f6", "client": "#1d4ed8", "former": "#f59e0b",
    "lost": "#dc2626",
    "active": "#1d4ed8", "inactive": "#94a3b8", "suspended": "#dc2626",
    "pre_inactive": "#f59e0b", "never": "#cbd5e1",
    "top": "#1d4ed8", "middle": "#3b82f6", "rest": "#93c5fd", "none": "#cbd5e1",
    "ceased": "#94a3b8", "amount": "#93c5fd", "weighted": "#1d4ed8",
}  # fmt: skip
ACTIVITY_COLOURS = {"active": "#16a34a", "inactive": "#dc2626"}


def fmt(value: Number, column: Column | None = None, *, short: bool = False) -> str:
    """A figure as the user's locale writes it: 1.234 (es), 1,234 (en); 12,5 %."""
    if column is not None and column.percent:
        return f"{number_format(value, decimal_pos=1, use_l10n=True)} %"
    if column is not None and column.money:
        places = 0 if short else 2
        return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    return number_format(value, use_l10n=True, force_grouping=True)


def colour(chart: Chart, key: str) -> str:
    if chart.name == "activity":
        return ACTIVITY_COLOURS.get(key, COLOURS.get(key, PRIMARY))
    if chart.name in ("loss_reason", "competitor", "region"):
        return COLOURS["ceased"] if key == "ceased" else PRIMARY
    return COLOURS.get(key, PRIMARY)


def _column(chart: Chart, key: str) -> Column:
    return next(c for c in chart.columns if c.key == key)


def _short(text: str, limit: int = 25) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(chart: Chart, height: int, width: int) -> list[str]:
    parts: list[str]
    title = chart.title
    desc = _("Bar chart; the table below has the same figures.")
    if chart.kind == "line":
        desc = _("Line chart; the table below has the same figures.")
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc"'
            ' xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
            chart.name,
            chart.name,
        ),
        format_html('<title id="{}-title">{}</title>', chart.name, title),
        format_html('<desc id="{}-desc">{}</desc>', chart.name, desc),
    ]
    return parts


def _link(row: Row, inner: str) -> str:
    if not row.link:
        return inner
    return format_html(
        '<a href="{}" class="bar-link" data-key="{}" aria-label="{}">{}</a>',
        row.link,
        row.key,
        row.label,
        mark_safe(inner),  # noqa: S308 (built with format_html)
    )


def _legend(chart: Chart, y: int) -> list[str]:
    parts: list[str] = []
    x = LABEL_W
    for key in chart.series:
        header = str(_column(chart, key).header)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" rx="2" fill="{}"/>'
                '<text x="{}" y="{}" class="legend-text">{}</text>',
                x,
                y,
                colour(chart, key),
                x + 16,
                y + 10,
                header,
            )
        )
        x += 16 + 7 * len(header) + 18
    return parts


def render(chart: Chart, *, wide: bool = False) -> SafeString:
    """The chart as an <svg> element (safe HTML); ``wide`` for a chart across the page."""
    if not chart.rows:
        return format_html('<p class="empty">{}</p>', _("Nothing to show yet."))
    width = 2 * WIDTH if wide else WIDTH
    if chart.kind == "line":
        return _line(chart, width)
    return _bars(chart, width)


def _bars(chart: Chart, width: int) -> SafeString:
    """Horizontal bars: one per row, stacked or side by side when several series are drawn."""
    grouped = len(chart.series) > 1 and chart.kind != "stacked"
    legend_h = 26 if len(chart.series) > 1 else 0
    row_h = ROW_H + (10 if grouped else 0)
    height = legend_h + row_h * len(chart.rows) + 6
    if chart.kind == "stacked":
        largest = max(sum(Decimal(r.values.get(k, 0)) for k in chart.series) for r in chart.rows)
    else:
        largest = max(Decimal(r.values.get(k, 0)) for r in chart.rows for k in chart.series)
    scale = (width - LABEL_W - VALUE_W) / float(largest or 1)
    parts = _open(chart, height, width)
    if legend_h:
        parts += _legend(chart, 4)
    for i, row in enumerate(chart.rows):
        top = legend_h + i * row_h
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="bar-label" text-anchor="end">'
                "{}<title>{}</title></text>",
                LABEL_W - 8,
                top + row_h / 2 + 4,
                _short(row.label),
                row.label,
            )
        )
        parts.append(_link(row, _row_bars(chart, row, (top, row_h, width), scale, grouped)))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every piece escaped by format_html)


def _row_bars(
    chart: Chart, row: Row, box: tuple[int, int, int], scale: float, grouped: bool
) -> str:
    top, row_h, width_all = box
    pieces = []
    x = float(LABEL_W)
    bar_h = BAR_H / 2 + 1 if grouped else BAR_H
    y = top + (row_h - (bar_h * 2 + 2 if grouped else bar_h)) / 2
    for n, key in enumerate(chart.series):
        value = row.values.get(key, 0)
        width = float(value) * scale
        column = _column(chart, key)
        tip = f"{row.label} · {column.header}: {fmt(value, column)}"
        by = y + n * (bar_h + 2) if grouped else y
        bx = LABEL_W if grouped else x
        pieces.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}" class="bar">'
                "<title>{}</title></rect>",
                f"{bx:.1f}",
                f"{by:.1f}",
                f"{max(width, 0):.1f}",
                f"{bar_h:.1f}",
                colour(chart, key if len(chart.series) > 1 else row.key),
                tip,
            )
        )
        if grouped:
            pieces.append(
                format_html(
                    '<text x="{}" y="{}" class="bar-value small">{}</text>',
                    f"{LABEL_W + width + 4:.1f}",
                    f"{by + bar_h - 1:.1f}",
                    fmt(value, column, short=True),
                )
            )
        x += width
    if not grouped:
        key = "customers" if chart.kind == "stacked" else chart.series[0]
        column = _column(chart, key)
        pieces.append(
            format_html(
                '<text x="{}" y="{}" class="bar-value">{}</text>',
                f"{x + 6:.1f}",
                f"{top + row_h / 2 + 4:.1f}",
                fmt(row.values.get(key, 0), column, short=True),
            )
        )
    # A transparent band over the whole row: the click target is the row, not a thin bar.
    pieces.append(
        format_html(
            '<rect x="0" y="{}" width="{}" height="{}" class="hit"/>', top, width_all, row_h
        )
    )
    return "".join(pieces)


def _line(chart: Chart, width: int) -> SafeString:
    """A line with its points, a light area under it, a few horizontal grid lines."""
    key = chart.series[0]
    column = _column(chart, key)
    left, right, top, bottom = 78, 30, 14, 40
    height = 260
    plot_w = width - left - right
    plot_h = height - top - bottom
    values = [float(r.values.get(key, 0)) for r in chart.rows]
    largest = max(values) or 1.0
    step = plot_w / max(len(values) - 1, 1)
    parts = _open(chart, height, width)
    for g in range(5):
        level = largest * g / 4
        y = top + plot_h - plot_h * g / 4
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
                '<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>',
                left,
                width - right,
                f"{y:.1f}",
                f"{y:.1f}",
                left - 6,
                f"{y + 4:.1f}",
                fmt(Decimal(round(level)), column, short=True),
            )
        )
    points = [(left + i * step, top + plot_h - plot_h * v / largest) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    base = top + plot_h
    area = f"{left:.1f},{base:.1f} {path} {points[-1][0]:.1f},{base:.1f}"
    parts.append(format_html('<polygon points="{}" class="area"/>', area))
    parts.append(format_html('<polyline points="{}" class="line" fill="none"/>', path))
    every = 1 if len(points) <= 12 else 2
    for i, ((x, y), row) in enumerate(zip(points, chart.rows, strict=True)):
        tip = f"{row.label}: {fmt(row.values.get(key, 0), column)}"
        parts.append(
            format_html(
                '<circle cx="{}" cy="{}" r="4" class="point"><title>{}</title></circle>',
                f"{x:.1f}",
                f"{y:.1f}",
                tip,
            )
        )
        if i % every == 0 or i == len(points) - 1:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>',
                    f"{x:.1f}",
                    height - bottom + 18,
                    row.label,
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every piece escaped by format_html)


__all__ = ["escape", "fmt", "render"]
