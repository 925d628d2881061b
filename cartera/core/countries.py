"""Countries, regions (ISO 3166-2) and currencies, named in the active language."""

from __future__ import annotations

import gettext
from functools import cache

import pycountry
from django.utils.translation import get_language

# Countries Cartera is built for come first in pickers; every other country follows.
MAIN_COUNTRIES = (
    "ES", "MX", "CO", "AR", "CL", "PE", "EC", "UY", "PY", "BO", "VE", "GT", "CR",
    "DO", "SV", "HN", "NI", "PA", "CU", "PR", "PT", "BR", "US",
)  # fmt: skip

CURRENCY_CODES = (
    "EUR", "MXN", "COP", "ARS", "CLP", "PEN", "USD", "UYU", "PYG", "BOB", "VES",
    "GTQ", "CRC", "DOP", "HNL", "NIO", "PAB", "CUP", "BRL", "GBP", "CHF",
)  # fmt: skip

COUNTRY_CURRENCY = {
    "ES": "EUR", "MX": "MXN", "CO": "COP", "AR": "ARS", "CL": "CLP", "PE": "PEN",
    "EC": "USD", "UY": "UYU", "PY": "PYG", "BO": "BOB", "VE": "VES", "GT": "GTQ",
    "CR": "CRC", "DO": "DOP", "SV": "USD", "HN": "HNL", "NI": "NIO", "PA": "PAB",
    "CU": "CUP", "PR": "USD", "PT": "EUR", "BR": "BRL", "US": "USD",
}  # fmt: skip


def _language() -> str:
    return (get_language() or "es").split("-")[0]


@cache
def _translator(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


@cache
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    tr = _translator("iso3166-1", language)
    names = {c.alpha_2: tr.gettext(c.name) for c in pycountry.countries}
    main = [(code, names[code]) for code in MAIN_COUNTRIES]
    rest = sorted(
        ((code, name) for code, name in names.items() if code not in MAIN_COUNTRIES),
        key=lambda item: item[1],
    )
    return tuple(main + rest)


def country_choices() -> list[tuple[str, str]]:
    """All countries: the main markets first, then the rest alphabetically."""
    return list(_country_choices(_language()))


def country_name(code: str) -> str:
    """A country's name in the active language, or the code when unknown."""
    if not code:
        return ""
    return _country_names(_language()).get(code.upper(), code)


@cache
def _country_names(language: str) -> dict[str, str]:
    return dict(_country_choices(language))


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(str(c.alpha_2) for c in pycountry.countries)


def is_country(code: str) -> bool:
    return bool(code) and code.upper() in _country_codes()


@cache
def subdivision_names(country: str, language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of a country's subdivisions as ISO 3166-2 writes them, other names in
    brackets included ("A Coruña [La Coruña]"): every name a file may give them."""
    tr = _translator("iso3166-2", language)
    items = pycountry.subdivisions.get(country_code=country.upper()) or []
    # Spain's autonomous communities are parents of the provinces: keep provinces
    # (and Ceuta and Melilla), the level at which addresses are written.
    if country.upper() == "ES":
        subs = [s for s in items if s.parent_code or s.type.startswith("Autonomous city")]
    else:
        subs = [s for s in items if not s.parent_code]
    return tuple((s.code, tr.gettext(s.name)) for s in subs)


@cache
def _subdivisions(country: str, language: str) -> tuple[tuple[str, str], ...]:
    """The subdivisions by their official names, the bracketed alternatives left out
    ("A Coruña", "Girona"), sorted by name."""
    names = ((code, name.split(" [", 1)[0]) for code, name in subdivision_names(country, language))
    return tuple(sorted(names, key=lambda item: item[1]))


def region_choices(country: str) -> list[tuple[str, str]]:
    """ISO 3166-2 subdivisions of a country (provinces for Spain), by name."""
    if not country:
        return []
    return list(_subdivisions(country, _language()))


@cache
def _subdivision_names(country: str, language: str) -> dict[str, str]:
    """``_subdivisions`` by code: read for every address an import writes or checks."""
    return dict(_subdivisions(country, language))


def region_name(code: str) -> str:
    if not code or "-" not in code:
        return code
    return _subdivision_names(code.split("-")[0], _language()).get(code, code)


def is_region_of(code: str, country: str) -> bool:
    return code.upper().startswith(country.upper() + "-") and code in _subdivision_names(
        country.upper(), "en"
    )


@cache
def _currency_choices(language: str) -> tuple[tuple[str, str], ...]:
    tr = _translator("iso4217", language)
    out = []
    for code in CURRENCY_CODES:
        currency = pycountry.currencies.get(alpha_3=code)
        name = tr.gettext(currency.name) if currency else code
        out.append((code, f"{code} · {name}"))
    return tuple(out)


def currency_choices() -> list[tuple[str, str]]:
    return list(_currency_choices(_language()))
