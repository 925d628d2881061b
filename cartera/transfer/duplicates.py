"""Duplicates at import: against the register and within the file, found chunk by chunk.

A row is a duplicate of a customer with the same tax id in the same country (the validator
finds those), the same e-mail or phone (normalised as the register stores them), or a very
similar name in the same municipality (rapidfuzz ``token_sort_ratio`` of the folded names).
Each chunk costs one query per kind of key, never one per row. The keys of the file's rows
already checked are kept in memory while they are few (``MEMORY_KEYS``), then in a private
temporary SQLite database (``FileKeys``): a file of a million rows would otherwise hold about a
gigabyte of them.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import tempfile
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Field, Model
from rapidfuzz import fuzz, process

from cartera.core.models import Company
from cartera.core.text import quick_fold
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
# The file's keys kept in memory before they all go to disk: about 190 bytes each, some
# 150 MB (a file of 100,000 to 130,000 rows: a row has six keys or so, its names three or
# four). Reading and writing them on disk cost the check a third of its matching time.
MEMORY_KEYS = 800_000
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


def tax_id_query(count: int) -> str:
    """The SQL of ``holding_tax_ids`` for ``count`` tax ids: one look-up of the
    ``customer_tax_lookup`` index per tax id, in any country. Unordered: sorting by name would
    have SQLite walk the whole name index."""
    country, tax_id, pk = (_column(Customer, name) for name in ("tax_country", "tax_id", "id"))
    table = connection.ops.quote_name(Customer._meta.db_table)
    marks = ", ".join(["%s"] * count)
    return f"SELECT {country}, {tax_id}, {pk} FROM {table} WHERE {tax_id} IN ({marks})"  # noqa: S608


def holding_tax_ids(tax_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """{(country, tax id): customer} of the register's customers holding any of these
    (compact) tax ids, in any country. A query per ``_batches`` of them, written out: the ORM
    took three to seven times as long as the database to answer a chunk's."""
    found: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        for batch in _batches(sorted(set(tax_ids) - {""})):
            cursor.execute(tax_id_query(len(batch)), batch)
            for country, tax_id, pk in cursor.fetchall():
                found[(country, tax_id)] = pk
    return found


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return connection.ops.quote_name(str(field.column))


def channel_owners(emails: Iterable[str], phones: Iterable[str]) -> dict[tuple[str, str], int]:
    """{(kind, value): customer} of the register's e-mails (compared in lower case) and phones
    among these; of several holders, the channel first in the model's order. A query per
    ``_batches`` of values of one kind (each value looked up once in the index of type and
    value, not once per kind), written out: the ORM spent longer preparing a chunk's thousands
    of values than the database answering."""
    kind, value, customer, position, pk = (
        _column(ContactChannel, name) for name in ("type", "value", "customer", "position", "id")
    )
    order = f"{position}, {pk}"  # the model's ordering
    table = connection.ops.quote_name(ContactChannel._meta.db_table)
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for channel_type, values in ((ChannelType.EMAIL, emails), (ChannelType.PHONE, phones)):
            for batch in _batches(sorted(set(values))):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"SELECT {kind}, {value}, {customer}, {order} "  # noqa: S608
                    f"FROM {table} WHERE {kind} = %s AND {value} IN ({marks})",
                    [channel_type.value, *batch],
                )
                found += cursor.fetchall()
    owners: dict[tuple[str, str], int] = {}
    for row in sorted(found, key=lambda row: row[3:]):
        owners.setdefault((row[0], row[1].lower() if row[0] == "email" else row[1]), row[2])
    return owners


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
        held = holding_tax_ids(wanted)  # few, usually: read whole only those
        fields = ("id", "code", "legal_name", "trade_name")
        by_id = Customer.objects.only(*fields).in_bulk(list(held.values())) if held else {}
        self._holders = {key: by_id[pk] for key, pk in held.items() if pk in by_id}

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


def quick_squash(text: str) -> str:
    """``squash``, with the fast path of ``quick_fold``."""
    return _PUNCTUATION.sub("", quick_fold(text))


def name_key(name: str) -> str:
    """A name as compared: folded, punctuation as spaces ("Ruiz, S.L." → "ruiz s l")."""
    return " ".join(_PUNCTUATION.sub(" ", quick_fold(name)).split())


def name_words(folded: str) -> set[str]:
    return {w[:6] for w in folded.split() if len(w) >= 4 and w not in _IGNORED_WORDS}


def name_numbers(folded: str) -> set[str]:
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
        return _closest(key, candidates)


def _closest(key: NameKey, candidates: dict[int, str]) -> int | None:
    """The first of the candidates (in their order) very similar to the name, numbers agreeing."""
    if not candidates:
        return None
    found = process.extract(
        key.sorted, candidates, scorer=fuzz.ratio, score_cutoff=NAME_SCORE, limit=5
    )
    # "Obras 2000 SL" and "Obras 3000 SL" are two companies: numbers must agree.
    numbers = name_numbers(key.folded)
    return next((int(ref) for other, _s, ref in found if name_numbers(other) == numbers), None)


def _block(town: str, word: str) -> str:
    """A ``NameIndex`` block's key as one string; words have no spaces, so it is unambiguous."""
    return f"{word} {town}"


def _batches(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """Lists of at most ``size`` values: SQLite may allow as few as 999 variables a query."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -16000;
CREATE TABLE tax (id TEXT NOT NULL, country TEXT NOT NULL, row INTEGER NOT NULL,
                  PRIMARY KEY (id, country)) WITHOUT ROWID;
CREATE TABLE email (value TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE phone (value TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE block (key TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE name (key TEXT NOT NULL, seq INTEGER NOT NULL, row INTEGER NOT NULL,
                   sorted TEXT NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID;
"""


def _discard(db: sqlite3.Connection, path: str) -> None:
    db.close()
    Path(path).unlink(missing_ok=True)


class ChunkKeys:
    """The file's keys a chunk's rows can meet: those of earlier chunks (read for the whole
    chunk from disk; in memory, all of them) and those of the chunk's own rows, added row by
    row as they are checked.

    Answers as if every key of the file were in memory: the first row of a key wins, and a
    name block (``NameIndex``) keeps its first ``MAX_BLOCK + 1`` names and is ignored once it
    has more than ``MAX_BLOCK``.
    """

    def __init__(
        self,
        tax: dict[tuple[str, str], int],
        email: dict[str, int],
        phone: dict[str, int],
        blocks: dict[str, dict[int, str] | None],
    ) -> None:
        self.tax = tax
        self.email = email
        self.phone = phone
        self.blocks = blocks  # None: a block already too big in an earlier chunk
        self.stored_sizes = {key: len(block) for key, block in blocks.items() if block}
        self.new_tax: list[tuple[str, str, int]] = []
        self.new_email: list[tuple[str, int]] = []
        self.new_phone: list[tuple[str, int]] = []
        self.touched: dict[str, None] = {}  # blocks added to, in order
        self.names_added = 0

    def add_tax(self, tax: tuple[str, str], row: int) -> None:
        if tax not in self.tax:
            self.tax[tax] = row
            self.new_tax.append((tax[1], tax[0], row))

    def add_email(self, email: str, row: int) -> None:
        if email not in self.email:
            self.email[email] = row
            self.new_email.append((email, row))

    def add_phone(self, phone: str, row: int) -> None:
        if phone not in self.phone:
            self.phone[phone] = row
            self.new_phone.append((phone, row))

    def add_name(self, key: NameKey, ref: int) -> None:
        for word in key.words:
            name = _block(key.town, word)
            block = self.blocks.setdefault(name, {})
            if block is not None and len(block) <= MAX_BLOCK:
                block[ref] = key.sorted
                self.touched[name] = None
                self.names_added += 1

    def find_name(self, key: NameKey) -> int | None:
        candidates: dict[int, str] = {}
        for word in key.words:
            block = self.blocks.get(_block(key.town, word))
            if block and len(block) <= MAX_BLOCK:
                candidates.update(block)
        return _closest(key, candidates)


def _no_keys() -> ChunkKeys:
    return ChunkKeys({}, {}, {}, {})


class FileKeys:
    """The keys of a file's rows already checked: in memory (one ``ChunkKeys`` that every
    chunk reads and adds to) until there are more than ``MEMORY_KEYS``, then all of them in a
    private temporary SQLite database that is deleted when closed (or when this object is
    garbage-collected)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._closer: weakref.finalize[Any, Any] | None = None
        self._memory: ChunkKeys | None = _no_keys()  # None: on disk
        self._kept = 0

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:  # made on first use: a run without valid rows needs no file
            handle, path = tempfile.mkstemp(prefix="cartera-import-", suffix=".sqlite3")
            os.close(handle)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._closer = weakref.finalize(self, _discard, self._db, path)
            self._db.executescript(_SCHEMA)
        return self._db

    @property
    def on_disk(self) -> bool:
        return self._memory is None

    def close(self) -> None:
        """Forget the keys, deleting their database; the object can be used again."""
        if self._closer is not None:
            self._closer()
        self._db = self._closer = None
        self._memory, self._kept = _no_keys(), 0

    def read(
        self,
        taxes: Iterable[tuple[str, str]],
        emails: Iterable[str],
        phones: Iterable[str],
        blocks: Iterable[str],
    ) -> ChunkKeys:
        """The stored keys among these, one query per kind of key (and per 500 keys) once
        they are on disk; while in memory, all of them."""
        if self._memory is not None:
            return self._memory
        tax = {
            (country, tax_id): row
            for batch in _batches({t[1] for t in taxes})
            for tax_id, country, row in self._select("SELECT id, country, row FROM tax", batch)
        }
        email = dict(self._pairs("SELECT value, row FROM email", emails))
        phone = dict(self._pairs("SELECT value, row FROM phone", phones))
        sizes = dict(self._pairs("SELECT key, size FROM block", blocks, column="key"))
        found: dict[str, dict[int, str] | None] = {
            key: None if size > MAX_BLOCK else {} for key, size in sizes.items()
        }
        live = sorted(key for key, size in sizes.items() if size <= MAX_BLOCK)
        for batch in _batches(live):
            select = "SELECT key, row, sorted FROM name"
            for key, row, sort in self._select(select, batch, column="key", order="key, seq"):
                block = found[key]
                assert block is not None
                block[row] = sort
        return ChunkKeys(tax, email, phone, found)

    def write(self, chunk: ChunkKeys) -> None:
        """Keep the keys the chunk's rows added: in memory they are kept already; on disk,
        stored in one transaction."""
        memory = self._memory
        if memory is None:
            self._store(chunk.new_tax, chunk.new_email, chunk.new_phone, chunk.blocks,
                        chunk.touched, chunk.stored_sizes)  # fmt: skip
            return
        assert chunk is memory, "a chunk read from memory"
        self._kept += (len(chunk.new_tax) + len(chunk.new_email) + len(chunk.new_phone)
                       + chunk.names_added)  # fmt: skip
        if self._kept > MEMORY_KEYS:  # every key so far goes to disk, as one chunk's would
            self._memory = None
            taxes = ((tax_id, country, row) for (country, tax_id), row in memory.tax.items())
            self._store(taxes, memory.email.items(), memory.phone.items(), memory.blocks,
                        memory.blocks, {})  # fmt: skip
            return
        chunk.new_tax, chunk.new_email, chunk.new_phone = [], [], []
        chunk.touched, chunk.names_added = {}, 0

    def _store(
        self,
        taxes: Iterable[tuple[str, str, int]],
        emails: Iterable[tuple[str, int]],
        phones: Iterable[tuple[str, int]],
        blocks: dict[str, dict[int, str] | None],
        touched: Iterable[str],
        stored_sizes: dict[str, int],
    ) -> None:
        """Store keys in one transaction: the names of the touched blocks past the ones stored
        already. Fed as they are read, without copies (all the keys move at once when they
        leave memory)."""
        touched_blocks = [(key, blocks[key] or {}) for key in touched]

        def names() -> Iterator[tuple[str, int, int, str]]:
            for key, block in touched_blocks:
                if len(block) <= MAX_BLOCK:  # the others are never read again
                    start = stored_sizes.get(key, 0)
                    added = itertools.islice(block.items(), start, None)
                    for seq, (row, sort) in enumerate(added, start):
                        yield key, seq, row, sort

        db = self.db
        db.execute("BEGIN")
        db.executemany("INSERT OR IGNORE INTO tax VALUES (?, ?, ?)", taxes)
        db.executemany("INSERT OR IGNORE INTO email VALUES (?, ?)", emails)
        db.executemany("INSERT OR IGNORE INTO phone VALUES (?, ?)", phones)
        sizes = ((key, len(block)) for key, block in touched_blocks)
        db.executemany("INSERT OR REPLACE INTO block VALUES (?, ?)", sizes)
        full = ((key,) for key, block in touched_blocks if len(block) > MAX_BLOCK)
        db.executemany("DELETE FROM name WHERE key = ?", full)
        db.executemany("INSERT INTO name VALUES (?, ?, ?, ?)", names())
        db.execute("COMMIT")

    def _pairs(
        self, select: str, values: Iterable[str], *, column: str = "value"
    ) -> Iterator[tuple[str, int]]:
        for batch in _batches(set(values)):
            yield from self._select(select, batch, column=column)

    def _select(
        self, select: str, batch: list[Any], *, column: str = "id", order: str = ""
    ) -> list[Any]:
        if not batch or self._db is None:  # nothing stored yet
            return []
        marks = ", ".join("?" * len(batch))
        sql = f"{select} WHERE {column} IN ({marks})" + (f" ORDER BY {order}" if order else "")
        return self._db.execute(sql, batch).fetchall()


def _keys(clean: CleanCustomer) -> tuple[list[str], list[str], str, str]:
    emails = [c["value"].lower() for c in clean.channels or [] if c["type"] == ChannelType.EMAIL]
    phones = [c["value"] for c in clean.channels or [] if c["type"] == ChannelType.PHONE]
    fiscal = next((a for a in clean.addresses or [] if a.get("type") == AddressType.FISCAL), None)
    town = (fiscal or {}).get("municipality", "") or (fiscal or {}).get("locality", "")
    return emails, phones, town, str(clean.fields.get("legal_name") or "")


def _tax(clean: CleanCustomer) -> tuple[str, str]:
    return (str(clean.fields.get("tax_country") or ""), str(clean.fields.get("tax_id") or ""))


class Matcher:
    """Finds the duplicates of a run's rows; remembers the file's rows across chunks."""

    def __init__(self) -> None:
        self.file_keys = FileKeys()
        self.register_names = NameIndex()
        self.towns_read: set[str] = set()

    def close(self) -> None:
        """Forget the file's rows and delete their database."""
        self.file_keys.close()

    def match_chunk(self, rows: Sequence[tuple[int, CleanCustomer]]) -> dict[int, Match]:
        """{row: match} for the rows (already valid) that duplicate something."""
        keys = {row: _keys(clean) for row, clean in rows}
        emails = {e for k in keys.values() for e in k[0]}
        phones = {p for k in keys.values() for p in k[1]}
        owners = channel_owners(emails, phones)
        self._read_towns({k[2] for k in keys.values() if k[2]})
        named = {row: NameKey.of(k[2], k[3]) if k[2] and k[3] else None for row, k in keys.items()}
        seen = self.file_keys.read(
            taxes=[_tax(clean) for _row, clean in rows],
            emails=emails,
            phones=phones,
            blocks={_block(n.town, w) for n in named.values() if n is not None for w in n.words},
        )
        matches: dict[int, Match] = {}
        for row, clean in rows:
            found_match = self._match(row, clean, keys[row], owners, named[row], seen)
            if found_match is not None:
                matches[row] = found_match
            self._remember(row, clean, keys[row], named[row], seen)
        self.file_keys.write(seen)
        return matches

    def _match(
        self,
        row: int,
        clean: CleanCustomer,
        keys: tuple[list[str], list[str], str, str],
        owners: dict[tuple[str, str], int],
        named: NameKey | None,
        seen: ChunkKeys,
    ) -> Match | None:
        emails, phones, _town, name = keys
        tax = _tax(clean)
        if tax[1] and tax in seen.tax:
            return Match("tax_id", tax[1], row=seen.tax[tax])
        for email in emails:
            if ("email", email) in owners:
                return Match("email", email, customer_id=owners[("email", email)])
            if email in seen.email:
                return Match("email", email, row=seen.email[email])
        for phone in phones:
            if ("phone", phone) in owners:
                return Match("phone", phone, customer_id=owners[("phone", phone)])
            if phone in seen.phone:
                return Match("phone", phone, row=seen.phone[phone])
        if named is not None:  # a town and a name
            if (customer_id := self.register_names.find_key(named)) is not None:
                return Match("name", name, customer_id=customer_id)
            if (earlier := seen.find_name(named)) is not None:
                return Match("name", name, row=earlier)
        return None

    def _remember(
        self,
        row: int,
        clean: CleanCustomer,
        keys: tuple[list[str], list[str], str, str],
        named: NameKey | None,
        seen: ChunkKeys,
    ) -> None:
        emails, phones, _town, _name = keys
        tax = _tax(clean)
        if tax[1]:
            seen.add_tax(tax, row)
        for email in emails:
            seen.add_email(email, row)
        for phone in phones:
            seen.add_phone(phone, row)
        if named is not None:
            seen.add_name(named, row)

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
