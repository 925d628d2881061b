"""Finding likely duplicate customers, and keeping the review queue in step with them.

Four kinds of evidence, each found without comparing every customer with every other:

- the same **tax id** (compact, without a VAT prefix) under another tax country — within one
  country the register's unique constraint already refuses a second one;
- the same **e-mail** (trimmed, case-folded; Gmail addresses without dots and ``+tags``);
- the same **phone** (the digits of its E.164 form);
- a similar **name** (legal or trade name, folded, without legal forms such as "SL" or
  "SA de CV"), compared with rapidfuzz only within a *block*: customers whose fiscal address
  (or, failing that, any address) has the same country and postal code, or the same
  municipality when there is no postal code. Names whose numbers differ never match ("Obras
  2000" and "Obras 3000" are two companies), and neither do the names of two customers with
  different valid tax ids of one country: they are two legal entities, whatever their names.

Values shared by more than ``MAX_GROUP`` customers (a switchboard, an accountant's mailbox)
say nothing about any two of them and are left out; so is a name similar to the names of more
than ``MAX_GROUP`` customers of its block. A block with more than ``MAX_BLOCK`` names is
compared only among names sharing a word, so no block costs more than ``MAX_BLOCK²``
comparisons. Archived and blocked customers are not scanned: an archived one left the
register, a blocked one may not be processed any more.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, TypeVar

from django.utils import timezone
from rapidfuzz import fuzz, process

from cartera.core.text import fold
from cartera.customers.fiscal import TAX_ID_TYPES, check_tax_id
from cartera.customers.models import Address, AddressType, ContactChannel, Customer
from cartera.quality.models import DuplicatePair, PairStatus, Scan

# The import's rules for names: which numbers a name holds, which words single it out.
from cartera.transfer.duplicates import name_numbers, name_words

logger = logging.getLogger("cartera.quality")

MAX_GROUP = 10  # customers sharing one e-mail, phone, tax id or name, beyond which: no evidence
NAME_THRESHOLD = 88  # token_sort_ratio (0-100) from which two names are "similar"
MIN_SCORE = 50  # pairs scoring less are not worth anyone's time
# Names compared all against all in one block: 500 names all alike cost some 0.1 s, so even
# 100,000 customers in such blocks take 20 s. A larger block (a big town without postal
# codes, a file imported with one postal code) is compared by word instead.
MAX_BLOCK = 500
BATCH = 1000  # pairs written per transaction

_T = TypeVar("_T")

# How much each kind of evidence says on its own (0-1); evidence adds up as independent odds.
WEIGHTS = {"tax_id": 0.95, "email": 0.85, "phone": 0.75, "name": 0.85}
# Two customers sharing a phone or e-mail whose names have nothing in common: often a group
# of companies or a family, less often one customer typed twice.
UNLIKE_NAMES = 50
UNLIKE_FACTOR = 0.8

# Words that say nothing about who a customer is: legal forms and joining words.
_NOISE = frozenset(
    [
        "sl",
        "sa",
        "slu",
        "sau",
        "sll",
        "slne",
        "sc",
        "scom",
        "scoop",
        "coop",
        "cb",
        "cp",
        "ute",
        "sas",
        "srl",
        "spa",
        "ltda",
        "ltd",
        "eirl",
        "sac",
        "saa",
        "sacv",
        "sapi",
        "sapa",
        "sab",
        "sen",
        "snc",
        "rl",
        "cv",
        "de",
        "del",
        "la",
        "las",
        "el",
        "los",
        "y",
        "e",
        "and",
        "the",
        "inc",
        "llc",
        "gmbh",
        "co",
        "cia",
        "sociedad",
        "limitada",
        "anonima",
        "cooperativa",
        "unipersonal",
        "responsabilidad",
        "variable",
        "capital",
    ]
)
_SPLIT = re.compile(r"[^0-9a-z]+")
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


def clean_name(name: str) -> str:
    """A name as compared: folded, dots dropped ("S.L." is "sl"), legal forms left out."""
    words = _SPLIT.split(fold(name).replace(".", ""))
    return " ".join(w for w in words if w and w not in _NOISE)


def email_key(value: str) -> str:
    """An e-mail as compared: trimmed, case-folded; Gmail ignores dots and ``+tags``."""
    email = value.strip().casefold()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return ""
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def phone_key(value: str) -> str:
    """A phone as compared: the digits of its E.164 form (stored so by the register)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits if len(digits) >= 7 else ""


def tax_key(tax_id: str, country: str) -> str:
    """A tax id as compared across countries: compact, without its country's VAT prefix."""
    compact = "".join(ch for ch in tax_id.upper() if ch.isalnum())
    if country and compact.startswith(country.upper()) and len(compact) > 4:
        compact = compact[len(country) :]
    return compact


def name_similarity(
    names_a: Iterable[str], names_b: Iterable[str], *, same_numbers: bool = False
) -> int:
    """The best token_sort_ratio between any cleaned name of one and any of the other.

    With ``same_numbers``, only names holding the same numbers are compared: "Obras 2000" is
    96% like "Obras 3000" and another company.
    """
    best = 0.0
    names_b = list(names_b)
    for a in names_a:
        for b in names_b:
            if same_numbers and name_numbers(a) != name_numbers(b):
                continue
            best = max(best, fuzz.token_sort_ratio(a, b))
    return round(best)


@dataclass
class Found:
    """What the scan found about one pair: its reasons, by kind."""

    reasons: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, kind: str, **details: Any) -> None:
        if kind not in self.reasons:
            self.reasons[kind] = {"kind": kind, **details}

    def score(self) -> int:
        unlikely = 1.0
        for kind, reason in self.reasons.items():
            weight = WEIGHTS[kind]
            if kind == "name":
                weight *= reason["similarity"] / 100
            unlikely *= 1 - weight
        score = 1 - unlikely
        if "name" not in self.reasons and self.name_similarity < UNLIKE_NAMES:
            score *= UNLIKE_FACTOR
        return max(1, min(100, round(score * 100)))

    name_similarity: int = 0

    def as_list(self) -> list[dict[str, Any]]:
        order = list(WEIGHTS)
        return sorted(self.reasons.values(), key=lambda r: order.index(r["kind"]))


@dataclass
class Register:
    """The little of each current customer the scan needs, read in three queries."""

    names: dict[int, tuple[str, ...]] = field(default_factory=dict)
    tax: dict[int, tuple[str, str]] = field(default_factory=dict)
    tax_ids: dict[int, str] = field(default_factory=dict)  # as stored, to validate
    emails: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    phones: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    blocks: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    _checked: dict[int, bool] = field(default_factory=dict)

    def distinct_tax_ids(self, a: int, b: int) -> bool:
        """Whether both hold a valid tax id of one country, and they differ: two entities.

        Only ids with a check digit count: ids of the other kinds validate whatever is typed,
        so one of them differing may well be a typo.
        """
        tax_a, tax_b = self.tax.get(a), self.tax.get(b)
        if tax_a is None or tax_b is None or not tax_a[1] or tax_a[1] != tax_b[1]:
            return False
        return tax_a[0] != tax_b[0] and self._checked_tax_id(a) and self._checked_tax_id(b)

    def _checked_tax_id(self, pk: int) -> bool:
        if pk not in self._checked:
            check = check_tax_id(self.tax_ids[pk], self.tax[pk][1])
            kind = TAX_ID_TYPES.get(check.tax_id_type)
            self._checked[pk] = check.valid and kind is not None and kind.checksum
        return self._checked[pk]


def read_register(customers: Any = None) -> Register:
    """Names, tax ids, e-mails, phones and address blocks of the customers to scan."""
    register = Register()
    qs = (
        Customer.objects.current().filter(blocked_at__isnull=True)
        if customers is None
        else customers
    )
    rows = qs.order_by("pk").values_list("pk", "legal_name", "trade_name", "tax_id", "tax_country")
    for pk, legal_name, trade_name, tax_id, country in rows.iterator(chunk_size=5000):
        names = {clean_name(legal_name), clean_name(trade_name)} - {""}
        register.names[pk] = tuple(sorted(names))
        if tax_id:
            register.tax[pk] = (tax_key(tax_id, country), country)
            register.tax_ids[pk] = tax_id
    ids = register.names
    channels = ContactChannel.objects.filter(type__in=["email", "phone"]).values_list(
        "customer_id", "type", "value"
    )
    for pk, kind, value in channels.iterator(chunk_size=5000):
        if pk not in ids:
            continue
        if kind == "email":
            if key := email_key(value):
                register.emails[key].add(pk)
        elif key := phone_key(value):
            register.phones[key].add(pk)
    places: dict[int, tuple[bool, tuple[str, str]]] = {}
    addresses = Address.objects.values_list(
        "customer_id", "type", "country", "postal_code", "municipality"
    )
    for pk, kind, country, postal_code, municipality in addresses.iterator(chunk_size=5000):
        if pk not in ids:
            continue
        postal = "".join(postal_code.split()).upper()
        block = (country, f"cp:{postal}") if postal else (country, f"m:{fold(municipality)}")
        if block[1] in ("cp:", "m:"):
            continue
        fiscal = kind == AddressType.FISCAL
        if pk not in places or (fiscal and not places[pk][0]):
            places[pk] = (fiscal, block)
    for pk, (_fiscal, block) in places.items():
        register.blocks[block].append(pk)
    return register


def _groups(index: dict[str, set[int]]) -> Iterator[tuple[str, list[int]]]:
    for key, members in index.items():
        if 1 < len(members) <= MAX_GROUP:
            yield key, sorted(members)


def find_pairs(register: Register) -> dict[tuple[int, int], Found]:
    """Every pair with some evidence, keyed by (smaller id, larger id)."""
    found: dict[tuple[int, int], Found] = defaultdict(Found)
    by_tax: dict[str, set[int]] = defaultdict(set)
    for pk, (key, _country) in register.tax.items():
        by_tax[key].add(pk)
    for key, members in _groups(by_tax):
        for a, b in combinations(members, 2):
            if register.tax[a][1] != register.tax[b][1] or not register.tax[a][1]:
                found[a, b].add("tax_id", value=key)
    for key, members in _groups(register.emails):
        for a, b in combinations(members, 2):
            found[a, b].add("email", value=key)
    for key, members in _groups(register.phones):
        for a, b in combinations(members, 2):
            found[a, b].add("phone", value="+" + key)
    for block, members in register.blocks.items():
        if len(members) > 1:
            for pair, similarity in _similar_names(register, block, sorted(members)).items():
                found[pair].reasons["name"] = {"kind": "name", "similarity": similarity}
    for (a, b), item in found.items():
        if "name" in item.reasons:
            item.name_similarity = item.reasons["name"]["similarity"]
            continue
        # Found by tax id, e-mail or phone: a similar name adds to that evidence, even when
        # the two tax ids differ (one of them mistyped) — but not when the numbers differ.
        item.name_similarity = name_similarity(register.names[a], register.names[b])
        if item.name_similarity >= NAME_THRESHOLD:
            similarity = name_similarity(register.names[a], register.names[b], same_numbers=True)
            if similarity >= NAME_THRESHOLD:
                item.add("name", similarity=similarity)
    return {pair: item for pair, item in found.items() if item.score() >= MIN_SCORE}


Names = list[tuple[str, int]]  # cleaned names of a block, each with its customer


def _similar_names(
    register: Register, block: tuple[str, str], members: list[int]
) -> dict[tuple[int, int], int]:
    """Pairs of one block whose names are similar, with their similarity.

    Only names holding the same numbers are compared, and never two customers with
    different valid tax ids of one country. A name similar to those of more than
    ``MAX_GROUP`` customers is too common to tell anything ("Bar Central").
    """
    by_numbers: dict[frozenset[str], Names] = defaultdict(list)
    for pk in members:
        for name in register.names[pk]:
            by_numbers[frozenset(name_numbers(name))].append((name, pk))
    similar: dict[tuple[int, int], int] = {}
    for names in by_numbers.values():
        groups = [names] if len(names) <= MAX_BLOCK else _by_word(names, block)
        for group in groups:
            _compare(register, group, similar)
    partners = Counter(pk for pair in similar for pk in pair)
    common = {pk for pk, count in partners.items() if count > MAX_GROUP}
    if common:
        logger.info(
            "Duplicate scan: %d names of block %s too common to be evidence (%d pairs left out)",
            len(common),
            " ".join(block),
            sum(1 for a, b in similar if a in common or b in common),
        )
        return {(a, b): s for (a, b), s in similar.items() if a not in common and b not in common}
    return similar


def _by_word(names: Names, block: tuple[str, str]) -> list[Names]:
    """An oversized block's names grouped by the words that single them out (as the import
    does), leaving out words shared by more than ``MAX_BLOCK`` names: comparing those would
    cost the square of their number."""
    by_word: dict[str, Names] = defaultdict(list)
    for name, pk in names:
        for word in name_words(name):
            by_word[word].append((name, pk))
    groups = [group for group in by_word.values() if len(group) <= MAX_BLOCK]
    logger.warning(
        "Duplicate scan: %d names in block %s, more than %d: compared only with names sharing "
        "a word; %d words shared by more than %d names left out",
        len(names),
        " ".join(block),
        MAX_BLOCK,
        len(by_word) - len(groups),
        MAX_BLOCK,
    )
    return groups


def _compare(register: Register, names: Names, similar: dict[tuple[int, int], int]) -> None:
    """Every two of these names, all against all (rapidfuzz compares in C)."""
    if len(names) < 2:
        return
    choices = [name for name, _pk in names]
    for i, query in enumerate(choices[:-1]):
        matches = process.extract(
            query,
            choices[i + 1 :],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=NAME_THRESHOLD,
            limit=None,
        )
        for _choice, score, j in matches:
            a, b = names[i][1], names[i + 1 + j][1]
            if a == b:
                continue
            pair = (a, b) if a < b else (b, a)
            if register.distinct_tax_ids(*pair):
                continue
            if similar.get(pair, 0) < round(score):
                similar[pair] = round(score)


@dataclass
class ScanResult:
    customers: int
    found: int
    created: int
    updated: int
    removed: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "found": self.found,
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "seconds": round(self.seconds, 2),
        }


KEEP_SCANS = 100  # the record of the last scans: a few months of nightly ones


def scan_duplicates() -> ScanResult:
    """Scan the whole register and bring the stored pairs up to date.

    New pairs are opened; open ones get their new score and reasons; open ones no longer
    found are removed (their customers changed, or one was archived). A pair someone
    dismissed or merged is never opened again.
    """
    started = time.perf_counter()
    register = read_register()
    found = find_pairs(register)
    created, updated, removed = store_pairs(found)
    result = ScanResult(
        customers=len(register.names),
        found=len(found),
        created=created,
        updated=updated,
        removed=removed,
        seconds=time.perf_counter() - started,
    )
    Scan.objects.create(finished_at=timezone.now(), **result.as_dict())
    kept = Scan.objects.values_list("pk", flat=True)[:KEEP_SCANS]
    Scan.objects.exclude(pk__in=list(kept)).delete()
    return result


def _batches(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def store_pairs(found: dict[tuple[int, int], Found]) -> tuple[int, int, int]:
    """Write the scan's pairs: (created, updated, removed).

    A transaction per batch of ``BATCH`` pairs, never one for them all: on SQLite a writer
    locks the whole database, and the app must not wait for a scan. Only pairs still open
    are removed: one someone dismissed or merged meanwhile stays as they left it.
    """
    now = timezone.now()
    existing = {
        (a, b): (pk, status, score, reasons)
        for pk, a, b, status, score, reasons in DuplicatePair.objects.values_list(
            "pk", "customer_a_id", "customer_b_id", "status", "score", "reasons"
        ).iterator(chunk_size=5000)
    }
    new: list[DuplicatePair] = []
    changed: list[DuplicatePair] = []
    seen: list[int] = []
    for (a, b), item in found.items():
        score, reasons = item.score(), item.as_list()
        known = existing.get((a, b))
        if known is None:
            new.append(
                DuplicatePair(
                    customer_a_id=a,
                    customer_b_id=b,
                    score=score,
                    reasons=reasons,
                    found_at=now,
                    seen_at=now,
                )
            )
        elif known[1] == PairStatus.OPEN:
            if (known[2], known[3]) != (score, reasons):
                changed.append(
                    DuplicatePair(pk=known[0], score=score, reasons=reasons, seen_at=now)
                )
            else:
                seen.append(known[0])
    stale = [
        pk
        for pair, (pk, status, _score, _reasons) in existing.items()
        if status == PairStatus.OPEN and pair not in found
    ]
    open_pairs = DuplicatePair.objects.filter(status=PairStatus.OPEN)
    for pairs in _batches(new):
        DuplicatePair.objects.bulk_create(pairs, ignore_conflicts=True)
    for pairs in _batches(changed):
        DuplicatePair.objects.bulk_update(pairs, ["score", "reasons", "seen_at"])
    for pks in _batches(seen):
        open_pairs.filter(pk__in=pks).update(seen_at=now)
    for pks in _batches(stale):
        open_pairs.filter(pk__in=pks).delete()
    return len(new), len(changed), len(stale)
