"""Postal codes: format per country, and the Spanish province a code implies."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# Countries whose postal code format is well known; elsewhere any short code is accepted.
_FORMATS: dict[str, tuple[str, str]] = {
    "ES": (r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", "28013"),
    "MX": (r"\d{5}", "06600"),
    "CO": (r"\d{6}", "110111"),
    "AR": (r"\d{4}|[A-Z]\d{4}[A-Z]{3}", "C1043AAZ"),
    "CL": (r"\d{7}", "8320000"),
    "PE": (r"\d{5}", "15001"),
    "EC": (r"\d{6}", "170150"),
    "UY": (r"\d{5}", "11000"),
    "PY": (r"\d{4,6}", "001001"),
    "VE": (r"\d{4}", "1010"),
    "GT": (r"\d{5}", "01001"),
    "CR": (r"\d{5}", "10101"),
    "DO": (r"\d{5}", "10101"),
    "HN": (r"\d{5}", "11101"),
    "NI": (r"\d{5}", "11001"),
    "BR": (r"\d{5}-?\d{3}", "01310-100"),
    "PT": (r"\d{4}-\d{3}", "1000-001"),
    "US": (r"\d{5}(-\d{4})?", "10001"),
    "FR": (r"\d{5}", "75001"),
    "DE": (r"\d{5}", "10115"),
    "IT": (r"\d{5}", "00184"),
}

# INE province number (first two digits of a Spanish postal code) -> ISO 3166-2.
_ES_PROVINCES = [
    "VI",
    "AB",
    "A",
    "AL",
    "AV",
    "BA",
    "PM",
    "B",
    "BU",
    "CC",
    "CA",
    "CS",
    "CR",
    "CO",
    "C",
    "CU",
    "GI",
    "GR",
    "GU",
    "SS",
    "H",
    "HU",
    "J",
    "LE",
    "L",
    "LO",
    "LU",
    "M",
    "MA",
    "MU",
    "NA",
    "OR",
    "O",
    "P",
    "GC",
    "PO",
    "SA",
    "TF",
    "S",
    "SG",
    "SE",
    "SO",
    "T",
    "TE",
    "TO",
    "V",
    "VA",
    "BI",
    "ZA",
    "Z",
    "CE",
    "ML",
]


def normalize_postal_code(value: str) -> str:
    return " ".join(value.upper().split())


def postal_code_error(value: str, country: str) -> str | None:
    """Why a postal code is wrong for a country, or None when it is acceptable."""
    value = normalize_postal_code(value)
    if not value:
        return None
    rule = _FORMATS.get(country.upper())
    if rule is None:
        if re.fullmatch(r"[A-Z0-9][A-Z0-9 -]{1,11}", value):
            return None
        return _("Enter a valid postal code.")
    pattern, example = rule
    if re.fullmatch(pattern, value):
        return None
    return _("Enter a valid postal code for this country (for example %(example)s).") % {
        "example": example
    }


def region_for_postal_code(value: str, country: str) -> str | None:
    """The region a postal code implies (Spain: the province), or None."""
    value = normalize_postal_code(value)
    if country.upper() != "ES" or postal_code_error(value, "ES") or not value:
        return None
    return "ES-" + _ES_PROVINCES[int(value[:2]) - 1]
