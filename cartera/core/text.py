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


def quick_fold(text: str) -> str:
    """``fold``, with a fast path for plain ASCII text (most names)."""
    return " ".join(text.lower().split()) if text.isascii() else fold(text)


def sort_key(text: str) -> str:
    """How a name sorts in a list, the same on every database: case and accents ignored, and ñ
    a letter of its own after n ('Óptica' with the o's, 'Ñandú' after 'Nube', before 'Oca')."""
    if not text.isascii():  # an "n" and a combining tilde is an ñ too
        text = unicodedata.normalize("NFC", text).replace("ñ", "n~").replace("Ñ", "n~")
    return quick_fold(text)
