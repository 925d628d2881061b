"""Duplicates at import: against the register and within the file, found chunk by chunk.

A row is a duplicate of a customer with the same tax id in the same country (the validator
finds those), the same e-mail or phone (normalised as the register stores them), or a very
similar name in the same municipality (rapidfuzz ``token_sort_ratio`` of the folded names).
Each chunk costs one query per kind of key, never one per row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process

from cartera.core.models import Company
from cartera.core.text import fold
from cartera.customers.models import (
    Address,
    AddressType,
    ChannelType,
    ContactChannel,
    Customer,
    CustomField,
    FiscalType,
    LegalForm,
)
from cartera.customers.validation import CleanCustomer, Lookups

NAME_SCORE = 90  # token_sort_ratio from which two names in one municipality are "very similar"
MAX_BLOCK = 300  # a name word shared by more customers than this does not single one out
_DIGITS = re.compile(r"\d+")
_PUNCTUATION = re.compile(r"[^0-9a-z]+")
_IGNORED_WORDS = frozenset(
    [
        "sociedad",
        "limitada",
        "anonima",
        "cooperativa",
        "comercial",
        "servicios",
        "distribuciones",
        "grupo",
        "hermanos",
        "asociados",
        "empresa",
        "compania",
    ]
)


class BatchLookups(Lookups):
    """The validator's reads of the register answered from memory: lists once per run, tax
    ids once per chunk (``prefetch``); anything not prefetched still asks the database."""

    def __init__(self) -> None:
        self._legal_forms = {
            (f.country, f.code): f for f in LegalForm.objects.filter(is_active=True)
        }
        self._fiscal_types = {f.code: f for f in FiscalType.objects.filter(is_active=True)}
        self._custom_fields = {f.key: f for f in CustomField.objects.filter(is_active=True)}
        self._default_country = Company.load().default_country
        self._holders: dict[tuple[str, str], Customer] = {}
        self._asked: set[str] = set()

    def prefetch(self, tax_ids: Iterable[str]) -> None:
        """Read the customers holding any of these tax ids (as typed) in one query."""
        wanted: set[str] = set()
        for value in tax_ids:
            compact = quick_squash(value).upper()
            if compact:
                wanted.add(compact)
                if len(compact) > 2 and compact[:2].isalpha():
                    wanted.add(compact[2:])  # "ESB12345674" is kept as "B12345674"
        self._asked = wanted
        self._holders = {
            (c.tax_country, c.tax_id): c
            for c in Customer.objects.filter(tax_id__in=sorted(wanted)).only(
                "id", "code", "legal_name", "trade_name", "tax_country", "tax_id"
            )
        }

    def legal_form(self, country: str, code: str) -> LegalForm | None:
        return self._legal_forms.get((country, code))

    def fiscal_type(self, code: str) -> FiscalType | None:
        return self._fiscal_types.get(code)

    def tax_id_holder(self, country: str, compact: str, *, exclude: int | None) -> Customer | None:
        if compact not in self._asked or exclude is not None:
            return super().tax_id_holder(country, compact, exclude=exclude)
        return self._holders.get((country, compact))

    def custom_fields(self) -> dict[str, CustomField]:
        return self._custom_fields

    def default_country(self) -> str:
        return self._default_country


@dataclass(frozen=True)
class Match:
    """What a row duplicates: a customer of the register or an earlier row of the file."""

    kind: str  # "tax_id", "email", "phone", "name"
    value: str
    customer_id: int | None = None
    row: int | None = None  # the earlier row of the same file

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "customer": self.customer_id,
                "file_row": self.row}  # fmt: skip


def quick_fold(text: str) -> str:
    """``fold``, with a fast path for plain ASCII text (most names)."""
    return " ".join(text.lower().split()) if text.isascii() else fold(text)


def quick_squash(text: str) -> str:
    """``squash``, with the fast path of ``quick_fold``."""
    return _PUNCTUATION.sub("", quick_fold(text))


def name_key(name: str) -> str:
    """A name as compared: folded, punctuation as spaces ("Ruiz, S.L." → "ruiz s l")."""
    return " ".join(_PUNCTUATION.sub(" ", quick_fold(name)).split())


def name_words(folded: str) -> set[str]:
    return {w[:6] for w in folded.split() if len(w) >= 4 and w not in _IGNORED_WORDS}


def _numbers(folded: str) -> set[str]:
    return set(_DIGITS.findall(folded))


class NameKey(NamedTuple):
    """A name as the index compares it, worked out once for every look-up and addition."""

    town: str  # the municipality, folded
    folded: str  # ``name_key`` of the name
    words: set[str]  # ``name_words``: the words that single it out
    sorted: str  # its words sorted, what ``fuzz.token_sort_ratio`` compares

    @classmethod
    def of(cls, municipality: str, name: str) -> NameKey:
        folded = name_key(name)
        return cls(quick_fold(municipality), folded, name_words(folded),
                   " ".join(sorted(folded.split())))  # fmt: skip


class NameIndex:
    """Names by municipality and word, to compare a new name with the few that share a word.

    Names are kept with their words sorted, so comparing them is ``fuzz.ratio``: what
    ``fuzz.token_sort_ratio`` computes after sorting both names' words on every comparison.
    """

    def __init__(self) -> None:
        self.blocks: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)

    def add(self, municipality: str, name: str, ref: int) -> None:
        self.add_key(NameKey.of(municipality, name), ref)

    def add_key(self, key: NameKey, ref: int) -> None:
        for word in key.words:
            block = self.blocks[(key.town, word)]
            if len(block) <= MAX_BLOCK:
                block[ref] = key.sorted

    def find(self, municipality: str, name: str) -> int | None:
        return self.find_key(NameKey.of(municipality, name))

    def find_key(self, key: NameKey) -> int | None:
        candidates: dict[int, str] = {}
        for word in key.words:
            block = self.blocks.get((key.town, word))
            if block and len(block) <= MAX_BLOCK:
                candidates.update(block)
        if not candidates:
            return None
        found = process.extract(
            key.sorted, candidates, scorer=fuzz.ratio, score_cutoff=NAME_SCORE, limit=5
        )
        # "Obras 2000 SL" and "Obras 3000 SL" are two companies: numbers must agree.
        numbers = _numbers(key.folded)
        return next((int(ref) for other, _s, ref in found if _numbers(other) == numbers), None)


def _keys(clean: CleanCustomer) -> tuple[list[str], list[str], str, str]:
    emails = [c["value"].lower() for c in clean.channels or [] if c["type"] == ChannelType.EMAIL]
    phones = [c["value"] for c in clean.channels or [] if c["type"] == ChannelType.PHONE]
    fiscal = next((a for a in clean.addresses or [] if a.get("type") == AddressType.FISCAL), None)
    town = (fiscal or {}).get("municipality", "") or (fiscal or {}).get("locality", "")
    return emails, phones, town, str(clean.fields.get("legal_name") or "")


class Matcher:
    """Finds the duplicates of a run's rows; remembers the file's rows across chunks."""

    def __init__(self) -> None:
        self.file_tax: dict[tuple[str, str], int] = {}
        self.file_email: dict[str, int] = {}
        self.file_phone: dict[str, int] = {}
        self.file_names = NameIndex()
        self.register_names = NameIndex()
        self.towns_read: set[str] = set()

    def match_chunk(self, rows: Sequence[tuple[int, CleanCustomer]]) -> dict[int, Match]:
        """{row: match} for the rows (already valid) that duplicate something."""
        keys = {row: _keys(clean) for row, clean in rows}
        emails = {e for k in keys.values() for e in k[0]}
        phones = {p for k in keys.values() for p in k[1]}
        owners: dict[tuple[str, str], int] = {}
        if emails or phones:
            found = ContactChannel.objects.filter(
                type__in=[ChannelType.EMAIL, ChannelType.PHONE],
                value__in=sorted(emails | phones),
            ).values_list("type", "value", "customer_id")
            for kind, value, customer_id in found:
                owners.setdefault((kind, value.lower() if kind == "email" else value), customer_id)
        self._read_towns({k[2] for k in keys.values() if k[2]})
        matches: dict[int, Match] = {}
        for row, clean in rows:
            town, name = keys[row][2:]
            named = NameKey.of(town, name) if town and name else None
            found_match = self._match(row, clean, keys[row], owners, named)
            if found_match is not None:
                matches[row] = found_match
            self._remember(row, clean, keys[row], named)
        return matches

    def _match(
        self,
        row: int,
        clean: CleanCustomer,
        keys: tuple[list[str], list[str], str, str],
        owners: dict[tuple[str, str], int],
        named: NameKey | None,
    ) -> Match | None:
        emails, phones, _town, name = keys
        tax = (str(clean.fields.get("tax_country") or ""), str(clean.fields.get("tax_id") or ""))
        if tax[1] and tax in self.file_tax:
            return Match("tax_id", tax[1], row=self.file_tax[tax])
        for email in emails:
            if ("email", email) in owners:
                return Match("email", email, customer_id=owners[("email", email)])
            if email in self.file_email:
                return Match("email", email, row=self.file_email[email])
        for phone in phones:
            if ("phone", phone) in owners:
                return Match("phone", phone, customer_id=owners[("phone", phone)])
            if phone in self.file_phone:
                return Match("phone", phone, row=self.file_phone[phone])
        if named is not None:  # a town and a name
            if (customer_id := self.register_names.find_key(named)) is not None:
                return Match("name", name, customer_id=customer_id)
            if (earlier := self.file_names.find_key(named)) is not None:
                return Match("name", name, row=earlier)
        return None

    def _remember(
        self,
        row: int,
        clean: CleanCustomer,
        keys: tuple[list[str], list[str], str, str],
        named: NameKey | None,
    ) -> None:
        emails, phones, _town, _name = keys
        tax = (str(clean.fields.get("tax_country") or ""), str(clean.fields.get("tax_id") or ""))
        if tax[1]:
            self.file_tax.setdefault(tax, row)
        for email in emails:
            self.file_email.setdefault(email, row)
        for phone in phones:
            self.file_phone.setdefault(phone, row)
        if named is not None:
            self.file_names.add_key(named, row)

    def _read_towns(self, towns: set[str]) -> None:
        """Load the register's names in municipalities not read yet (one query)."""
        new = {t for t in towns if quick_fold(t) not in self.towns_read}
        if not new:
            return
        self.towns_read |= {quick_fold(t) for t in new}
        spellings = sorted({v for t in new for v in (t, t.title(), t.upper(), t.lower())})
        found = Address.objects.filter(
            type=AddressType.FISCAL, municipality__in=spellings
        ).values_list("municipality", "customer__legal_name", "customer_id")
        for town, name, customer_id in found.iterator(chunk_size=5000):
            self.register_names.add(town, name, customer_id)
