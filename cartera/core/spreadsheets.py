"""Cells a spreadsheet will show, never run: shared by every CSV the application writes."""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A phone number in international format: a spreadsheet can compute it at worst, never call
# anything, so it is written as it is rather than with an apostrophe in front.
_PHONE = re.compile(r"\+(?=[^0-9]*[0-9])[0-9 .()\-\u00a0]+")


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text with a leading apostrophe;
    a phone number ("+51 73 808556") is left as it is."""
    if not text.startswith(FORMULA_START) or _PHONE.fullmatch(text):
        return text
    return "'" + text
