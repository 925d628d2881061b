"""What the bulk planner draws customers from, compiled once so that each draw is cheap.

Weighted choices, templates of postal codes and phone numbers turned into functions, phone
numbers checked against phonenumbers' patterns without its per-call overhead, Faker's names
drawn into pools, each country's ingredients (``Kit``) and the ids of the rows customers point
to (``References``).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import phonenumbers
from faker import Faker

from cartera.accounts.models import Role
from cartera.core.countries import COUNTRY_CURRENCY
from cartera.customers.demo import ensure_lists, ensure_users
from cartera.customers.demo.countries import City, CountrySpec
from cartera.customers.models import CustomerGroup, FiscalType, LeadSource, LegalForm, Sector, Tag

T = TypeVar("T")
Draw = Callable[[random.Random], str]


class Choice(Generic[T]):
    """A weighted choice from one ``random()`` and a bisection (``rng.choices`` is slower)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    @classmethod
    def of(cls, weights: Mapping[T, float]) -> Choice[T]:
        return cls(list(weights), list(weights.values()))

    def pick(self, rnd: Callable[[], float]) -> T:
        return self.items[bisect.bisect_right(self.cumulative, rnd() * self.total)]


_TOKEN = re.compile(r"\{([^{}]+)\}|#+|@")


def _constant(text: str) -> Draw:
    return lambda rng: text


def _digits(width: int) -> Draw:
    top = 10**width
    return lambda rng: str(int(rng.random() * top)).zfill(width)


def _one_of(options: Sequence[str]) -> Draw:
    return lambda rng: options[int(rng.random() * len(options))]


def _number(low: str, high: str) -> Draw:
    lo, span, width = int(low), int(high) - int(low) + 1, len(low)
    return lambda rng: str(lo + int(rng.random() * span)).zfill(width)


def compile_template(template: str, *, digits_only: bool = False) -> Draw:
    """``countries.fill`` for one template, parsed once; ``digits_only`` drops spaces and +."""
    parts: list[Draw] = []

    def literal(text: str) -> None:
        text = re.sub(r"\D", "", text) if digits_only else text
        if text:
            parts.append(_constant(text))

    position = 0
    for match in _TOKEN.finditer(template):
        literal(template[position : match.start()])
        position = match.end()
        token, body = match.group(0), match.group(1)
        if token.startswith("#"):
            parts.append(_digits(len(token)))  # a run of digits is one draw
        elif token == "@":
            parts.append(_one_of(string.ascii_uppercase))
        elif "|" in body:
            parts.append(_one_of(tuple(body.split("|"))))
        else:
            parts.append(_number(*body.split("-")))
    literal(template[position:])
    if len(parts) == 1:
        return parts[0]
    return lambda rng: "".join([part(rng) for part in parts])


class NumberTypes:
    """``phonenumbers.number_type`` of a region's national numbers, with the patterns compiled.

    The same decision as phonenumbers' own (the general pattern, then the special types, then
    fixed line and mobile) without its per-call overhead, which adds up at millions of phones.
    """

    SPECIAL = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
               "uan", "voicemail")  # fmt: skip

    def __init__(self, region: str) -> None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            raise ValueError(f"phonenumbers has no numbering plan for {region}.")
        self.metadata = metadata
        self.same = bool(metadata.same_mobile_and_fixed_line_pattern)
        self.by_length: dict[int, tuple[re.Pattern[str] | None, ...]] = {}

    def _patterns(self, length: int) -> tuple[re.Pattern[str] | None, ...]:
        """(general, any special type, fixed line, mobile) for numbers of ``length`` digits."""

        def pattern(descs: list[Any]) -> re.Pattern[str] | None:
            alternatives = [
                f"(?:{d.national_number_pattern})"
                for d in descs
                if d is not None
                and d.national_number_pattern
                and (not d.possible_length or length in d.possible_length)
            ]
            return re.compile("|".join(alternatives)) if alternatives else None

        m = self.metadata
        specials = [getattr(m, name) for name in self.SPECIAL]
        return (
            pattern([m.general_desc]),
            pattern(specials),
            pattern([m.fixed_line]),
            pattern([m.mobile]),
        )

    def label(self, number: str) -> str | None:
        """None for an invalid number, else the label the services give it (may be empty)."""
        patterns = self.by_length.get(len(number))
        if patterns is None:
            patterns = self.by_length[len(number)] = self._patterns(len(number))
        general, special, fixed, mobile = patterns
        if general is None or not general.fullmatch(number):
            return None
        if special is not None and special.fullmatch(number):
            return ""
        is_mobile = mobile is not None and mobile.fullmatch(number) is not None
        if fixed is not None and fixed.fullmatch(number):
            return "" if self.same or is_mobile else "landline"
        return "mobile" if is_mobile and not self.same else None


class PhoneMaker:
    """Valid numbers of one template in E.164, with the label the services would give them."""

    def __init__(self, template: str, country: str, types: NumberTypes) -> None:
        self.template, self.types = template, types
        self.digits = compile_template(template, digits_only=True)
        self.prefix = f"+{phonenumbers.country_code_for_region(country)}"
        # Leading digits of the written number that are not in the national number: the
        # country code ("+54 9 11 ..."), or the trunk zero ("01 ### ####" in Peru).
        rng = random.Random(0)  # noqa: S311 - sample numbers, not secrets
        for _attempt in range(20):
            sample = self.digits(rng)
            text = "+" + sample if template.startswith("+") else sample
            national = str(phonenumbers.parse(text, country).national_number)
            self.skip = len(sample) - len(national)
            if sample[self.skip :] == national:
                return
        raise ValueError(f"Cannot tell the national number of {template!r} in {country}.")

    def make(self, rng: random.Random) -> tuple[str, str, str]:
        """(E.164, national digits, label) of a number phonenumbers accepts."""
        for _attempt in range(200):
            national = self.digits(rng)[self.skip :]
            label = self.types.label(national) if national[0] != "0" else None
            if label is not None:
                return self.prefix + national, national, label
        raise RuntimeError(f"No valid phone number from {self.template!r}.")


class WordCache:
    """``fold`` or ``slugify`` applied word by word with a memory: names share their words."""

    def __init__(self, function: Callable[[str], str], joiner: str, *, alnum: bool) -> None:
        self.function, self.joiner, self.alnum = function, joiner, alnum
        self.words: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        out = []
        for word in text.split():
            done = self.words.get(word)
            if done is None:
                exact = word.isalnum() or not self.alnum  # slugify drops punctuation
                done = self.words[word] = self.function(word) if exact else ""
            if not done:  # a word that vanishes or has punctuation: only the whole is exact
                return self.function(text)
            out.append(done)
        return self.joiner.join(out)


class Place(NamedTuple):
    """A city with what its addresses and phones are drawn from."""

    city: City
    postal: tuple[Draw, ...]
    landline: PhoneMaker
    mobiles: tuple[PhoneMaker, ...]


POOL = 1000


@functools.lru_cache(maxsize=12)
def faker_pools(locale: str, seed: int) -> tuple[tuple[str, ...], ...]:
    """Men's and women's given names, surnames and street names of a locale, drawn once.

    Faker is far too slow to call per row at a million rows; drawing from these pools keeps its
    names and their frequencies.
    """
    fake = Faker(locale)
    fake.seed_instance(seed)
    return (
        tuple(str(fake.first_name_male()) for _ in range(POOL)),
        tuple(str(fake.first_name_female()) for _ in range(POOL)),
        tuple(str(fake.last_name()) for _ in range(POOL * 2)),
        tuple(str(fake.street_name()) for _ in range(POOL // 3)),
    )


class Kit:
    """A country's customers' ingredients, compiled once."""

    def __init__(self, spec: CountrySpec, seed: int, owners: tuple[int, ...]) -> None:
        self.spec = spec
        self.male, self.female, self.surnames, streets = faker_pools(spec.locale, seed)
        types = NumberTypes(spec.code)
        mobiles = tuple(PhoneMaker(t, spec.code, types) for t in spec.mobiles)
        self.places = Choice(
            [
                Place(
                    city,
                    tuple(compile_template(p) for p in city.postal),
                    PhoneMaker(city.landline, spec.code, types),
                    (PhoneMaker(city.mobile, spec.code, types),) if city.mobile else mobiles,
                )
                for city in spec.cities
            ],
            [city.weight for city in spec.cities],
        )
        self.exterior = compile_template(spec.exterior)
        self.interiors = tuple(compile_template(t) for t in spec.interiors)
        self.streets = tuple(map(compile_template, spec.streets)) or tuple(map(_constant, streets))
        self.org_forms = Choice(spec.org_forms, [form.weight for form in spec.org_forms])
        self.owners = owners
        self.currency = COUNTRY_CURRENCY.get(spec.code, "EUR")


@dataclass(frozen=True)
class References:
    """Database ids of the rows generated customers point to."""

    users: Mapping[str, int]
    fiscal_types: Mapping[str, int]
    legal_forms: Mapping[tuple[str, str], int]
    groups: Mapping[str, tuple[int, int | None]]  # name -> (id, payment terms)
    lead_sources: Mapping[str, int]
    sectors: Mapping[str, int]
    tags: Mapping[str, int]

    @classmethod
    def load(cls) -> References:
        """The demo's users and lists (created when missing) as ids."""
        users, _created = ensure_users()
        ensure_lists()
        admin = users["admin"].pk  # who gets the customers of a user who cannot own them
        forms = LegalForm.objects.filter(is_active=True).values_list("country", "code", "id")
        groups = CustomerGroup.objects.values_list("name", "id", "payment_terms_days")
        return cls(
            users={
                name: user.pk if user.is_active and user.role != Role.READ_ONLY else admin
                for name, user in users.items()
            },
            fiscal_types=dict(FiscalType.objects.filter(is_active=True).values_list("code", "id")),
            legal_forms={(country, code): pk for country, code, pk in forms},
            groups={name: (pk, terms) for name, pk, terms in groups},
            lead_sources=dict(LeadSource.objects.filter(is_active=True).values_list("name", "id")),
            sectors=dict(Sector.objects.filter(is_active=True).values_list("name", "id")),
            tags=dict(Tag.objects.values_list("name", "id")),
        )
