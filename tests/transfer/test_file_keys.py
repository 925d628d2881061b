"""The file's keys, kept in memory, on disk or first in one then in the other, find the same
duplicates as keeping them all in dictionaries does."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cartera.customers.models import AddressType, ChannelType
from cartera.customers.validation import CleanCustomer
from cartera.transfer import duplicates
from cartera.transfer.duplicates import Match, Matcher, NameIndex, NameKey
from tests.conftest import make_customer, valid_cif

pytestmark = pytest.mark.django_db


def customer(
    *,
    name: str = "",
    town: str = "",
    tax: tuple[str, str] = ("", ""),
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
) -> CleanCustomer:
    channels = [{"type": ChannelType.EMAIL, "value": e} for e in emails]
    channels += [{"type": ChannelType.PHONE, "value": p} for p in phones]
    addresses = [{"type": AddressType.FISCAL, "municipality": town}] if town else []
    fields = {"legal_name": name, "tax_country": tax[0], "tax_id": tax[1]}
    return CleanCustomer(fields=fields, channels=channels, addresses=addresses)


class InMemoryMatcher(Matcher):
    """The reference: every key of the file in dictionaries, in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.file_tax: dict[tuple[str, str], int] = {}
        self.file_email: dict[str, int] = {}
        self.file_phone: dict[str, int] = {}
        self.file_names = NameIndex()

    def match_chunk(self, rows: Sequence[tuple[int, CleanCustomer]]) -> dict[int, Match]:
        matches: dict[int, Match] = {}
        for row, clean in rows:
            emails, phones, town, name = duplicates._keys(clean)
            named = NameKey.of(town, name) if town and name else None
            tax = (str(clean.fields["tax_country"]), str(clean.fields["tax_id"]))
            match = self._reference_match(tax, emails, phones, name, named)
            if match is not None:
                matches[row] = match
            if tax[1]:
                self.file_tax.setdefault(tax, row)
            for email in emails:
                self.file_email.setdefault(email, row)
            for phone in phones:
                self.file_phone.setdefault(phone, row)
            if named is not None:
                self.file_names.add_key(named, row)
        return matches

    def _reference_match(
        self,
        tax: tuple[str, str],
        emails: list[str],
        phones: list[str],
        name: str,
        named: NameKey | None,
    ) -> Match | None:
        if tax[1] and tax in self.file_tax:
            return Match("tax_id", tax[1], row=self.file_tax[tax])
        for email in emails:
            if email in self.file_email:
                return Match("email", email, row=self.file_email[email])
        for phone in phones:
            if phone in self.file_phone:
                return Match("phone", phone, row=self.file_phone[phone])
        if named is not None and (earlier := self.file_names.find_key(named)) is not None:
            return Match("name", name, row=earlier)
        return None


def test_a_row_matches_an_earlier_row_of_its_own_chunk() -> None:
    # given one chunk whose third row repeats the first's e-mail and the second's phone
    matcher = Matcher()
    rows = [
        (1, customer(emails=["Ana@Example.com"])),
        (2, customer(phones=["+34600000001"])),
        (3, customer(emails=["ana@example.com"], phones=["+34600000001"])),
        (4, customer(tax=("ES", "B12345674"))),
        (5, customer(tax=("ES", "B12345674"))),
        (6, customer(tax=("PT", "B12345674"))),
    ]
    # when it is matched
    matches = matcher.match_chunk(rows)
    # then the e-mail is checked before the phone, and a tax id only within its country
    assert matches == {
        3: Match("email", "ana@example.com", row=1),
        5: Match("tax_id", "B12345674", row=4),
    }
    matcher.close()


def test_a_row_matches_a_row_of_an_earlier_chunk_and_the_first_row_wins() -> None:
    # given three chunks sharing an e-mail, a phone, a tax id and a name
    matcher = Matcher()
    first = matcher.match_chunk(
        [
            (1, customer(emails=["a@x.example"], name="Talleres Ruiz Mecánicos SL", town="Lugo")),
            (2, customer(phones=["600000002"], tax=("ES", "A1"))),
        ]
    )
    second = matcher.match_chunk(
        [
            (3, customer(emails=["b@x.example", "a@x.example"])),
            (4, customer(phones=["600000002"])),
            (5, customer(name="Mecánicos Talleres Ruiz, S.L.", town="LUGO")),
            (6, customer(emails=["b@x.example"], tax=("ES", "A1"))),
        ]
    )
    third = matcher.match_chunk(
        [
            (7, customer(emails=["b@x.example"])),
            (8, customer(name="Talleres Ruiz Mecanicos SL", town="Lugo")),
            (9, customer(name="Talleres Ruiz Mecanicos SL", town="Vigo")),
        ]
    )
    # then each duplicate names the first row that had the key, whichever chunk it was in
    assert first == {}
    assert second == {
        3: Match("email", "a@x.example", row=1),
        4: Match("phone", "600000002", row=2),
        5: Match("name", "Mecánicos Talleres Ruiz, S.L.", row=1),
        6: Match("tax_id", "A1", row=2),
    }
    assert third == {
        7: Match("email", "b@x.example", row=3),
        8: Match("name", "Talleres Ruiz Mecanicos SL", row=1),
    }
    matcher.close()


def _matched_in_chunks(rows: list[tuple[int, CleanCustomer]], chunk: int) -> dict[int, Match]:
    matcher = Matcher()
    matches: dict[int, Match] = {}
    for start in range(0, len(rows), chunk):
        matches.update(matcher.match_chunk(rows[start : start + chunk]))
    matcher.close()
    return matches


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_a_name_block_with_more_than_max_block_names_is_ignored(chunk: int) -> None:
    # given MAX_BLOCK + 1 names of one town that share their only words (numbers must agree,
    # so none is a duplicate of another)
    limit = duplicates.MAX_BLOCK
    rows = [(i, customer(name=f"Talleres Norte {i}", town="Soria")) for i in range(1, limit + 2)]
    # and, after them, a name of that block and two alike of a block still small
    rows.append((limit + 2, customer(name="Norte Talleres 1", town="Soria")))
    rows.append((limit + 3, customer(name="Fundiciones Sur", town="Soria")))
    rows.append((limit + 4, customer(name="Sur Fundiciones", town="Soria")))
    # when they are matched in chunks of any size
    matches = _matched_in_chunks(rows, chunk)
    # then the block is ignored once it holds more than MAX_BLOCK names
    assert matches == {limit + 4: Match("name", "Sur Fundiciones", row=limit + 3)}


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_a_name_block_with_max_block_names_is_searched(chunk: int) -> None:
    # given MAX_BLOCK names of one town sharing their words, then the first one again
    limit = duplicates.MAX_BLOCK
    rows = [(i, customer(name=f"Talleres Norte {i}", town="Soria")) for i in range(1, limit + 1)]
    rows.append((limit + 1, customer(name="Norte Talleres 1", town="Soria")))
    rows.append((limit + 2, customer(name="Norte Talleres 2", town="Soria")))
    # when they are matched in chunks of any size
    matches = _matched_in_chunks(rows, chunk)
    # then the repeated name is found; the block was full after it, so the next one is not
    assert matches == {limit + 1: Match("name", "Norte Talleres 1", row=1)}


def test_closing_deletes_the_database(monkeypatch: Any) -> None:
    # given a matcher that has remembered rows on disk
    monkeypatch.setattr(duplicates, "MEMORY_KEYS", 0)
    matcher = Matcher()
    matcher.match_chunk([(1, customer(emails=["a@x.example"]))])
    path = Path(matcher.file_keys.db.execute("PRAGMA database_list").fetchone()[2])
    assert path.exists()
    # when it is closed, then its file is gone and it remembers nothing
    matcher.close()
    assert not path.exists()
    assert matcher.match_chunk([(2, customer(emails=["a@x.example"]))]) == {}
    matcher.close()


def test_closing_forgets_the_keys_kept_in_memory() -> None:
    # given a matcher that has remembered a row's keys in memory
    matcher = Matcher()
    matcher.match_chunk([(1, customer(emails=["a@x.example"], tax=("ES", "A1")))])
    assert not matcher.file_keys.on_disk
    # when it is closed, then a row with the same keys is no longer a duplicate
    matcher.close()
    assert matcher.match_chunk([(2, customer(emails=["a@x.example"], tax=("ES", "A1")))]) == {}
    matcher.close()


def test_the_register_s_first_channel_holding_a_value_names_the_customer(owner: Any) -> None:
    # given two customers with the same e-mail: the older one as its second channel, the newer
    # one as its first
    older = make_customer(owner, tax_id=valid_cif(21), channels=[
        {"type": "phone", "value": "+34 600 11 22 33"},
        {"type": "email", "value": "compras@ambos.example"}])  # fmt: skip
    newer = make_customer(owner, tax_id=valid_cif(22), channels=[
        {"type": "email", "value": "compras@ambos.example"}])  # fmt: skip
    # when the register is asked who holds it, and its phone
    owners = duplicates.channel_owners(
        emails=["compras@ambos.example", "x@y.example"], phones=["+34600112233"]
    )
    # then the channel first in the channels' order (position, then id) names the customer
    assert owners == {("email", "compras@ambos.example"): newer.pk,
                      ("phone", "+34600112233"): older.pk}  # fmt: skip


TOWNS = ["Lugo", "LUGO", "Vigo", "Ávila", ""]
WORDS = ["Talleres", "Ruiz", "Mecánicos", "Obras", "Norte", "Pinto", "García", "Lopez", "Sur",
         "Fundiciones", "Hermanos", "Grupo", "Peña", "Müller", "Ruíz"]  # fmt: skip


def _random_rows(rng: random.Random, count: int) -> list[tuple[int, CleanCustomer]]:
    rows = []
    row = 0
    for _ in range(count):
        row += rng.randint(1, 3)  # skipped rows: invalid ones never reach the matcher
        words = rng.sample(WORDS, rng.randint(1, 4))
        if rng.random() < 0.3:
            words.append(str(rng.randint(1, 3)))
        name = " ".join(words) + rng.choice(["", " SL", ", S.L."]) if rng.random() < 0.9 else ""
        tax = (rng.choice(["ES", "PT", ""]), f"T{rng.randrange(count)}")
        emails = [f"U{rng.randrange(count)}@x.example" for _ in range(rng.choice([0, 1, 1, 2]))]
        phones = [f"6{rng.randrange(count):08d}" for _ in range(rng.choice([0, 1, 1, 2]))]
        rows.append((row, customer(name=name, town=rng.choice(TOWNS),
                                   tax=tax if rng.random() < 0.3 else ("", ""),
                                   emails=emails, phones=phones)))  # fmt: skip
    return rows


ON_DISK, HALF_WAY, IN_MEMORY = 0, 2500, 10**9  # keys kept in memory before going to disk


@pytest.mark.parametrize(
    ("seed", "max_block", "memory_keys"),
    [(1, 300, ON_DISK), (2, 300, HALF_WAY), (3, 12, IN_MEMORY), (4, 3, HALF_WAY),
     (5, 12, ON_DISK), (6, 300, IN_MEMORY)],
)  # fmt: skip
def test_the_same_duplicates_as_with_every_key_in_dictionaries(
    seed: int, max_block: int, memory_keys: int, monkeypatch: Any
) -> None:
    # given a few thousand random rows with many shared keys and names, in random chunks,
    # and the file's keys kept on disk, in memory, or moved to disk half-way
    monkeypatch.setattr(duplicates, "MAX_BLOCK", max_block)
    monkeypatch.setattr(duplicates, "MEMORY_KEYS", memory_keys)
    rng = random.Random(seed)
    rows = _random_rows(rng, 3000)
    matcher, reference = Matcher(), InMemoryMatcher()
    # when both match them chunk by chunk
    got: dict[int, Match] = {}
    expected: dict[int, Match] = {}
    start = 0
    while start < len(rows):
        size = rng.choice([1, 2, 50, 400])
        got.update(matcher.match_chunk(rows[start : start + size]))
        expected.update(reference.match_chunk(rows[start : start + size]))
        start += size
        if start < len(rows) // 4:  # half-way means after the first chunks
            assert matcher.file_keys.on_disk == (memory_keys == ON_DISK)
    assert matcher.file_keys.on_disk == (memory_keys != IN_MEMORY)
    matcher.close()
    # then they find the same duplicates, of every kind
    assert got == expected
    kinds = {m.kind for m in expected.values()}
    assert kinds == {"tax_id", "email", "phone", "name"}
    assert len(expected) > len(rows) // 4
