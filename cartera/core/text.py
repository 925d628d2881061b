"""Text folding shared by search and duplicate detection."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: 'Muñoz  Pérez' -> 'munoz perez'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def squash(text: str) -> str:
    """Only the letters and digits of folded text: 'B-1234567.4' -> 'b12345674'."""
    return _NON_ALNUM.sub("", fold(text))
