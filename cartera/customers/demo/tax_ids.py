"""Tax ids for demo customers: valid numbers for each country, built from what they encode."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stdnum.ar import cuit
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.es import cif, dni, nie
from stdnum.mx import rfc
from stdnum.pe import ruc

from cartera.core.text import fold
from cartera.customers.fiscal import check_tax_id
from cartera.customers.models import Kind

if TYPE_CHECKING:
    from cartera.customers.demo.countries import CountrySpec

PERSON = Kind.PERSON.value
ORG = Kind.ORGANIZATION.value


def letters(text: str) -> str:
    """Upper-case ASCII letters of ``text``: 'Muñoz-Pérez' -> 'MUNOZPEREZ'."""
    return re.sub(r"[^A-Z]", "", fold(text).upper())


@dataclass(frozen=True)
class Holder:
    """Who a tax id is generated for: what the number encodes is taken from here."""

    kind: str
    name: str = ""  # an organisation's name, without the legal form
    first_name: str = ""
    surnames: tuple[str, ...] = ()
    female: bool = False
    province: str = "28"  # ES: INE number of the province of the fiscal address
    cif_letter: str = "B"  # ES: first letter of the CIF, the legal form of the entity


def es_org(rng: random.Random, holder: Holder) -> str:
    body = f"{holder.cif_letter}{holder.province}{rng.randrange(100_000):05d}"
    candidates = str(cif.calc_check_digits(body))  # the digit and the letter form
    return body + candidates[1 if holder.cif_letter in "NPQRSW" else 0]


def es_person(rng: random.Random, holder: Holder) -> str:
    if rng.random() < 0.15:  # a foreign resident's NIE
        body = f"{rng.choice('XY')}{rng.randrange(10_000_000):07d}"
        return body + nie.calc_check_digit(body)
    body = str(rng.randint(10_000_000, 79_999_999))
    return body + dni.calc_check_digit(body)


_RFC_SKIP = frozenset(
    {"DE", "DEL", "LA", "LAS", "LOS", "EL", "Y", "E", "EN", "CON", "PARA", "POR", "SA", "CV",
     "RL", "SC", "AC"}
)  # fmt: skip
_RFC_HOMOCLAVE_1 = "123456789ABCDEFGHIJKLMNOPQRSTUV"
_RFC_HOMOCLAVE_2 = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Words SAT never issues as the first four letters of a person's RFC.
_RFC_OFFENSIVE = frozenset(
    {"BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE", "COJA", "COJE",
     "COJI", "COJO", "CULO", "FETO", "GUEY", "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KAKA",
     "KOGE", "KOJO", "KULO", "MAME", "MAMO", "MEAR", "MEAS", "MEON", "MION", "MOCO", "MULA",
     "PEDA", "PEDO", "PENE", "PUTA", "PUTO", "QULO", "RATA", "RUIN"}
)  # fmt: skip


def _rfc_words(text: str) -> list[str]:
    words = [letters(word) for word in text.split()]
    return [w for w in words if w and w not in _RFC_SKIP]


def _rfc_date(rng: random.Random, first_year: int, last_year: int) -> str:
    day = date(first_year, 1, 1) + timedelta(days=rng.randrange((last_year - first_year) * 365))
    return day.strftime("%y%m%d")


def _rfc(rng: random.Random, name_part: str, date_part: str) -> str:
    body = name_part + date_part + rng.choice(_RFC_HOMOCLAVE_1) + rng.choice(_RFC_HOMOCLAVE_2)
    return body + rfc.calc_check_digit(body)


def mx_org(rng: random.Random, holder: Holder) -> str:
    words = _rfc_words(holder.name) or ["XXX"]
    if len(words) >= 3:
        initials = words[0][0] + words[1][0] + words[2][0]
    elif len(words) == 2:
        initials = words[0][0] + words[1][:2]
    else:
        initials = words[0][:3]
    return _rfc(rng, initials.ljust(3, "X"), _rfc_date(rng, 1980, 2022))


def mx_person(rng: random.Random, holder: Holder) -> str:
    first = (_rfc_words(holder.surnames[0]) if holder.surnames else []) or ["X"]
    second = (_rfc_words(holder.surnames[1]) if len(holder.surnames) > 1 else []) or ["X"]
    given = _rfc_words(holder.first_name) or ["X"]
    surname = first[0]
    vowel = next((ch for ch in surname[1:] if ch in "AEIOU"), "X")
    initials = surname[0] + vowel + second[0][0] + given[0][0]
    if initials in _RFC_OFFENSIVE:  # SAT replaces the last letter of an offensive word
        initials = initials[:3] + "X"
    return _rfc(rng, initials, _rfc_date(rng, 1955, 2003))


def co_org(rng: random.Random, holder: Holder) -> str:
    body = str(rng.randint(800_000_000, 901_999_999))
    return body + nit.calc_check_digit(body)


def co_person(rng: random.Random, holder: Holder) -> str:
    # A person's NIT is their cédula: eight digits, or ten starting with 10 for younger people.
    body = str(
        rng.randint(10_000_000, 79_999_999)
        if rng.random() < 0.6
        else rng.randint(1_000_000_000, 1_099_999_999)
    )
    return body + nit.calc_check_digit(body)


def ar_org(rng: random.Random, holder: Holder) -> str:
    body = f"{rng.choice(('30', '30', '30', '33'))}{rng.randint(50_000_000, 71_999_999)}"
    return body + cuit.calc_check_digit(body)


def ar_person(rng: random.Random, holder: Holder) -> str:
    body = f"{'27' if holder.female else '20'}{rng.randint(12_000_000, 45_999_999)}"
    return body + cuit.calc_check_digit(body)


def cl_org(rng: random.Random, holder: Holder) -> str:
    body = str(rng.randint(76_000_000, 77_999_999))
    return body + rut.calc_check_digit(body)


def cl_person(rng: random.Random, holder: Holder) -> str:
    body = str(rng.randint(5_000_000, 25_000_000))
    return body + rut.calc_check_digit(body)


def pe_org(rng: random.Random, holder: Holder) -> str:
    body = f"20{rng.randint(10_000_000, 61_599_999)}"
    return body + ruc.calc_check_digit(body)


def pe_person(rng: random.Random, holder: Holder) -> str:
    body = f"10{rng.randint(10_000_000, 79_999_999)}"  # 10 + the person's DNI
    return body + ruc.calc_check_digit(body)


def valid_tax_id(
    rng: random.Random,
    spec: CountrySpec,
    holder: Holder,
    taken: set[tuple[str, str]],
) -> str:
    """A tax id that check_tax_id accepts for the holder's country and kind, never used before."""
    make = spec.org_tax_id if holder.kind == ORG else spec.person_tax_id
    for _attempt in range(200):
        result = check_tax_id(make(rng, holder), spec.code)
        key = (spec.code, result.compact)
        if result.valid and result.kind in (None, holder.kind) and key not in taken:
            taken.add(key)
            return result.compact
    raise RuntimeError(f"No valid tax id could be generated for {spec.code}.")
