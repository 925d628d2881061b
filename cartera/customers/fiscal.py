"""Tax identifier (NIF, RFC, RUC, CUIT, RUT, NIT, VAT...) validation for customers.

Check digits are verified with python-stdnum for every country that has a published algorithm.
A few countries have no public check digit, so only the shape of the number is checked there
(``TaxIdType.checksum`` is False):

* Bolivia, NIT: 7 to 12 digits.
* Honduras, RTN: exactly 14 digits.
* Panama, RUC: groups of letters and digits separated by dashes, 5 to 25 characters in all, such
  as ``8-123-4567``, ``PE-12-345``, ``E-8-12345``, ``N-12-345`` or ``155612345-2-2015``. The
  dashes are kept in the stored form because ``8-12-345`` and ``81-2-345`` are different people.
* Costa Rica (cédula física/jurídica, DIMEX) and the US EIN: stdnum only checks their structure.
* Any other country: 3 to 30 letters or digits, with separators allowed.
"""

from __future__ import annotations

import gettext as gettext_module
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pycountry
from django.utils.translation import get_language, gettext, to_locale
from stdnum import exceptions as exc
from stdnum.ar import cuit as ar_cuit
from stdnum.br import cnpj as br_cnpj
from stdnum.br import cpf as br_cpf
from stdnum.cl import rut as cl_rut
from stdnum.co import nit as co_nit
from stdnum.cr import cpf as cr_cpf
from stdnum.cr import cpj as cr_cpj
from stdnum.cr import cr as cr_cr
from stdnum.do import cedula as do_cedula
from stdnum.do import rnc as do_rnc
from stdnum.ec import ci as ec_ci
from stdnum.ec import ruc as ec_ruc
from stdnum.es import cif as es_cif
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.es import nif as es_nif
from stdnum.eu import vat as eu_vat
from stdnum.gt import nit as gt_nit
from stdnum.mx import rfc as mx_rfc
from stdnum.pe import cui as pe_cui
from stdnum.pe import ruc as pe_ruc
from stdnum.pt import nif as pt_nif
from stdnum.py import ruc as py_ruc
from stdnum.sv import nit as sv_nit
from stdnum.us import ein as us_ein
from stdnum.uy import rut as uy_rut
from stdnum.ve import rif as ve_rif

Kind = Literal["person", "organization"]


@dataclass(frozen=True)
class TaxIdType:
    """A kind of tax identifier issued by one country."""

    code: str
    country: str
    label: str
    checksum: bool


@dataclass(frozen=True)
class TaxIdCheck:
    """The outcome of validating a tax identifier."""

    valid: bool
    reason: str
    compact: str
    formatted: str
    country: str
    tax_id_type: str
    kind: Kind | None
    legal_form: str | None


# Order matters: within a country the first type that validates wins.
_TYPES = (
    TaxIdType("es_nif", "ES", "NIF", True),
    TaxIdType("es_nie", "ES", "NIE", True),
    TaxIdType("es_cif", "ES", "CIF", True),
    TaxIdType("mx_rfc", "MX", "RFC", True),
    TaxIdType("pe_ruc", "PE", "RUC", True),
    TaxIdType("pe_dni", "PE", "DNI", True),
    TaxIdType("ar_cuit", "AR", "CUIT/CUIL", True),
    TaxIdType("cl_rut", "CL", "RUT", True),
    TaxIdType("co_nit", "CO", "NIT", True),
    TaxIdType("ec_ruc", "EC", "RUC", True),
    TaxIdType("ec_ci", "EC", "Cédula", True),
    TaxIdType("uy_rut", "UY", "RUT", True),
    TaxIdType("py_ruc", "PY", "RUC", True),
    TaxIdType("ve_rif", "VE", "RIF", True),
    TaxIdType("gt_nit", "GT", "NIT", True),
    TaxIdType("cr_cpj", "CR", "Cédula jurídica", False),
    TaxIdType("cr_cpf", "CR", "Cédula física", False),
    TaxIdType("cr_cr", "CR", "DIMEX", False),
    TaxIdType("do_rnc", "DO", "RNC", True),
    TaxIdType("do_cedula", "DO", "Cédula", True),
    TaxIdType("sv_nit", "SV", "NIT", True),
    TaxIdType("pt_nif", "PT", "NIF", True),
    TaxIdType("br_cpf", "BR", "CPF", True),
    TaxIdType("br_cnpj", "BR", "CNPJ", True),
    TaxIdType("us_ein", "US", "EIN", False),
    TaxIdType("bo_nit", "BO", "NIT", False),
    TaxIdType("hn_rtn", "HN", "RTN", False),
    TaxIdType("pa_ruc", "PA", "RUC", False),
    TaxIdType("eu_vat", "", "NIF-IVA (UE)", True),
    TaxIdType("other", "", "Other", False),
)
TAX_ID_TYPES: dict[str, TaxIdType] = {t.code: t for t in _TYPES}

_NATIONAL: dict[str, tuple[str, ...]] = {}
for _type in _TYPES:
    if _type.country:
        _NATIONAL[_type.country] = (*_NATIONAL.get(_type.country, ()), _type.code)

# stdnum lists Northern Ireland as "xi"; it is a VAT prefix, not a country.
_EU_COUNTRIES = frozenset(cc.upper() for cc in eu_vat.MEMBER_STATES if cc != "xi")
# VAT prefix -> ISO country. Greece uses EL; GR is accepted too because people type it.
_VAT_PREFIXES = {cc: cc for cc in _EU_COUNTRIES} | {"EL": "GR", "XI": "GB"}

COUNTRIES_WITH_TAX_IDS: frozenset[str] = frozenset(_NATIONAL) | _EU_COUNTRIES

# The first letter of a CIF is the legal form of the entity (Orden EHA/451/2008).
_ES_LEGAL_FORMS: dict[str, str | None] = {
    "A": "SA", "B": "SL", "C": "SC", "D": "SCom", "E": "CB", "F": "COOP", "G": "ASOC",
    "H": "CP", "J": "SCIV", "N": None, "P": "AL", "Q": "OP", "R": "CONG", "S": "AE",
    "U": "UTE", "V": None, "W": None,
}  # fmt: skip
# Public-in-general and foreigners RFCs are fixed strings that do not follow the check digit.
_MX_GENERIC_RFCS = frozenset({"XAXX010101000", "XEXX010101000"})
# Types whose check digit is strong enough to tell the user "this belongs to another country".
_HINT_TYPES = (
    "es_nif", "es_nie", "es_cif", "mx_rfc", "pe_ruc", "ar_cuit", "ec_ruc", "ec_ci", "uy_rut",
    "ve_rif", "sv_nit", "br_cpf", "br_cnpj",
)  # fmt: skip
# Dashes carry meaning in these numbers (Panama groups, Costa Rica zero padding).
_KEEP_DASHES = frozenset({"pa_ruc", "cr_cpf"})

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SEPARATORS = re.compile(r"[\s.,/\\_\u00b7-]+")


def compact_tax_id(value: str) -> str:
    """Upper-case a tax id and strip spaces, dots, dashes, slashes and similar separators."""
    return _prepare(value, keep_dashes=False)


def _plain(text: str) -> bool:
    """Only ASCII letters and digits: nothing to strip or normalise (nearly every id)."""
    return text.isascii() and text.isalnum()


def _prepare(value: str, *, keep_dashes: bool) -> str:
    value = value or ""
    if _plain(value):
        return value.upper()
    # NFKC turns full-width digits and other look-alikes pasted from PDFs into plain ASCII.
    text = _DASHES.sub("-", unicodedata.normalize("NFKC", value))
    if keep_dashes:
        return _SEPARATORS.sub(lambda m: "-" if "-" in m.group() else "", text).upper()
    return _SEPARATORS.sub("", text).upper()


# --- validators: take the prepared text, return the canonical compact form or raise ---------


_CIF_LETTERS = "ABCDEFGHJNPQRSUVW"  # the legal forms of entities that hold a CIF


def _es_type(number: str) -> str:
    if number[:1] in ("X", "Y", "Z"):
        return "es_nie"
    if number[:1] and number[0] in _CIF_LETTERS:
        return "es_cif"
    return "es_nif"  # DNI and the K/L/M special NIFs of people


def _es(code: str) -> Callable[[str], str]:
    def validate(text: str) -> str:
        number = _es_compact(text)
        if _es_type(number) != code:
            raise exc.InvalidFormat()
        return es_validate(number)

    return validate


def _es_compact(text: str) -> str:
    """``es_nif.compact``."""
    if not _plain(text):
        return str(es_nif.compact(text))
    number = text.upper()
    return number[2:] if number.startswith("ES") else number


def es_validate(text: str) -> str:
    """``es_nif.validate``, with the same answer and errors, without stdnum's cleaning of each
    number (twice for a CIF) when there is nothing to clean (``_plain``): that cleaning cost an
    import more than the check digits."""
    if not _plain(text):
        return str(es_nif.validate(text))
    number = _es_compact(text)
    if not number[1:-1].isdigit():  # ASCII: only 0-9 are digits
        raise exc.InvalidFormat()
    if len(number) != 9:
        raise exc.InvalidLength()
    first, body, check = number[0], number[:-1], number[-1]
    if first in "KLM":  # people without a DNI: the DNI's letter over the digits
        expected = es_dni.calc_check_digit(body[1:])
    elif first.isdigit():  # DNI
        expected = es_dni.calc_check_digit(body)
    elif first in "XYZ":  # NIE
        expected = es_nie.calc_check_digit(body)
    elif first in _CIF_LETTERS:  # CIF: a digit or a letter, by the kind of entity
        expected = es_cif.calc_check_digits(body)
    else:
        raise exc.InvalidFormat()
    if check not in expected:
        raise exc.InvalidChecksum()
    return number


def _mx_rfc(text: str) -> str:
    number = str(mx_rfc.compact(text))
    # The 10-character form lacks the homoclave, which SAT requires on invoices.
    if len(number) not in (12, 13):
        raise exc.InvalidLength()
    return str(mx_rfc.validate(number, validate_check_digits=number not in _MX_GENERIC_RFCS))


def _eu(text: str) -> str:
    prefix = "EL" if text.startswith("GR") else text[:2]
    if prefix not in _VAT_PREFIXES or len(text) <= 2:
        raise exc.InvalidFormat()
    return str(eu_vat.validate(prefix + text[2:]))


def _shape(pattern: str, low: int, high: int) -> Callable[[str], str]:
    """A validator for numbers without a published check digit: only their shape is checked."""
    regex = re.compile(pattern)

    def validate(text: str) -> str:
        if not regex.fullmatch(text):
            raise exc.InvalidFormat()
        if not low <= len(text) <= high:
            raise exc.InvalidLength()
        return text

    return validate


# --- what a valid number implies ------------------------------------------------------------

_PERSON: Kind = "person"
_ORG: Kind = "organization"


def _always(kind: Kind | None) -> Callable[[str], Kind | None]:
    return lambda number: kind


def _by_prefix(person: str, organization: str = "") -> Callable[[str], Kind | None]:
    """Map the leading digits (space-separated prefixes) to who holds the number."""

    def kind(number: str) -> Kind | None:
        if number.startswith(tuple(person.split())):
            return _PERSON
        return _ORG if number.startswith(tuple(organization.split())) else None

    return kind


def _cl_kind(number: str) -> Kind | None:
    # In practice SII gives companies RUTs from 50,000,000 up; people keep their lower RUN.
    return _ORG if int(number[:-1]) >= 50_000_000 else _PERSON


def _co_kind(number: str) -> Kind | None:
    # DIAN numbers companies 8xxxxxxxx/9xxxxxxxx; other NITs are usually a person's cédula.
    return _ORG if len(number) == 10 and number[0] in "89" else None


def _ec_ruc_kind(number: str) -> Kind | None:
    # The third digit of a RUC is 9 for companies, 6 for public bodies, 0-5 for people.
    return _ORG if number[2] in "69" else _PERSON


def _lengths(*lengths: int) -> Callable[[str], bool]:
    return lambda number: len(number) in lengths


def _es_fits(code: str) -> Callable[[str], bool]:
    return lambda number: _es_type(number) == code


@dataclass(frozen=True)
class _Rule:
    validate: Callable[[str], str]
    kind: Callable[[str], Kind | None]
    # Picks whose error to report when no type of the country validates.
    fits: Callable[[str], bool] = lambda number: True
    format: Callable[[str], str] | None = None
    # ``validate`` refuses whatever ``fits`` refuses: the fitting type is tried first.
    exclusive: bool = False


_RULES: dict[str, _Rule] = {
    "es_nif": _Rule(_es("es_nif"), _always(_PERSON), _es_fits("es_nif"), exclusive=True),
    "es_nie": _Rule(_es("es_nie"), _always(_PERSON), _es_fits("es_nie"), exclusive=True),
    "es_cif": _Rule(_es("es_cif"), _always(_ORG), _es_fits("es_cif"), exclusive=True),
    "mx_rfc": _Rule(_mx_rfc, lambda n: _ORG if len(n) == 12 else _PERSON),
    "pe_ruc": _Rule(pe_ruc.validate, _by_prefix("10 15 17", "20"), _lengths(11)),
    "pe_dni": _Rule(pe_cui.validate, _always(_PERSON), _lengths(8, 9)),
    "ar_cuit": _Rule(
        ar_cuit.validate, _by_prefix("20 23 24 27", "30 33 34"), format=ar_cuit.format
    ),
    "cl_rut": _Rule(cl_rut.validate, _cl_kind, format=cl_rut.format),
    "co_nit": _Rule(co_nit.validate, _co_kind, format=co_nit.format),
    "ec_ruc": _Rule(ec_ruc.validate, _ec_ruc_kind, _lengths(13)),
    "ec_ci": _Rule(ec_ci.validate, _always(_PERSON), _lengths(10)),
    "uy_rut": _Rule(uy_rut.validate, _always(_ORG), format=uy_rut.format),
    "py_ruc": _Rule(py_ruc.validate, _always(None), format=py_ruc.format),
    "ve_rif": _Rule(ve_rif.validate, _by_prefix("V E P", "J G C")),
    "gt_nit": _Rule(gt_nit.validate, _always(None), format=gt_nit.format),
    "cr_cpj": _Rule(cr_cpj.validate, _always(_ORG), lambda n: len(n) == 10 and n[0] in "2345"),
    "cr_cpf": _Rule(cr_cpf.validate, _always(_PERSON), lambda n: len(n) <= 10, cr_cpf.format),
    "cr_cr": _Rule(cr_cr.validate, _always(_PERSON), _lengths(11, 12)),
    "do_rnc": _Rule(do_rnc.validate, _always(_ORG), _lengths(9), do_rnc.format),
    "do_cedula": _Rule(do_cedula.validate, _always(_PERSON), _lengths(11), do_cedula.format),
    "sv_nit": _Rule(sv_nit.validate, _always(None), format=sv_nit.format),
    "pt_nif": _Rule(pt_nif.validate, _by_prefix("1 2 3", "5 6 9")),
    "br_cpf": _Rule(br_cpf.validate, _always(_PERSON), _lengths(11), br_cpf.format),
    "br_cnpj": _Rule(br_cnpj.validate, _always(_ORG), _lengths(14), br_cnpj.format),
    "us_ein": _Rule(us_ein.validate, _always(_ORG), format=us_ein.format),
    "bo_nit": _Rule(_shape("[0-9]+", 7, 12), _always(None)),
    "hn_rtn": _Rule(_shape("[0-9]+", 14, 14), _always(None)),
    "pa_ruc": _Rule(_shape("[A-Z0-9]{1,10}(?:-[A-Z0-9]{1,10}){1,4}", 5, 25), _always(None)),
    "eu_vat": _Rule(_eu, _always(None)),
    # Any letter or digit of any script: names of foreign ids are not ours to judge.
    "other": _Rule(_shape(r"[^\W_]+", 3, 30), _always(None)),
}
assert set(_RULES) == set(TAX_ID_TYPES), "every tax id type needs a rule"


# --- running the rules ----------------------------------------------------------------------


def _attempt(code: str, text: str) -> tuple[str, type[Exception] | None]:
    try:
        return str(_RULES[code].validate(text)), None
    except exc.ValidationError as error:
        return "", type(error)
    except Exception:  # stdnum expects ASCII; odd input must become an error, never a crash
        return "", exc.InvalidFormat


def _vat_prefix(country: str) -> str:
    return "EL" if country == "GR" else country


def _variants(value: str, code: str, country: str) -> list[str]:
    """The spellings of ``value`` worth trying for ``code``: as typed, then without a prefix."""
    text = _prepare(value, keep_dashes=code in _KEEP_DASHES)
    if code == "eu_vat":
        prefix = _vat_prefix(country)
        if country in _EU_COUNTRIES and not text.startswith((prefix, country)):
            return [prefix + text]
        return [text]
    if country and text.startswith(country) and len(text) > len(country):
        return [text, text[len(country) :].lstrip("-")]
    return [text]


def _country_name(code: str) -> str:
    return _translated_country_name(code, to_locale(get_language() or "en"))


@lru_cache(maxsize=256)
def _translated_country_name(code: str, locale: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = str(country.name)
    try:
        catalog = gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, [locale])
    except OSError:  # no catalog for this language: English it is
        return name
    return catalog.gettext(name)


def _reason(code: str, error: type[Exception], label: str, country: str) -> str:
    if code == "other":
        if issubclass(error, exc.InvalidLength):
            return gettext("A tax id has between 3 and 30 letters or digits.")
        if not country:
            return gettext("Only letters, digits and separators are accepted.")
        return gettext(
            "Tax ids for %(country)s are not validated: "
            "only letters, digits and separators are accepted."
        ) % {"country": _country_name(country)}
    if issubclass(error, exc.InvalidLength):
        return gettext("The number has the wrong length for a %(label)s.") % {"label": label}
    if issubclass(error, exc.InvalidChecksum):
        return gettext("The check digit does not match: the number is mistyped.")
    if issubclass(error, exc.InvalidComponent):
        return gettext("Part of the number is not valid for a %(label)s.") % {"label": label}
    return gettext("The format is not that of a %(label)s.") % {"label": label}


def _valid(code: str, compact: str, country: str) -> TaxIdCheck:
    if code == "eu_vat":
        country = _VAT_PREFIXES.get(compact[:2], country)
    legal_form = _ES_LEGAL_FORMS.get(compact[0]) if code == "es_cif" else None
    kind = _RULES[code].kind(compact)
    formatted = format_tax_id(compact, country, code)
    return TaxIdCheck(True, "", compact, formatted, country, code, kind, legal_form)


def _invalid(value: str, reason: str, country: str, code: str) -> TaxIdCheck:
    compact = compact_tax_id(value)
    return TaxIdCheck(False, reason, compact, compact, country, code, None, None)


def _check_codes(
    value: str, country: str, codes: tuple[str, ...], *, hint: bool = False
) -> TaxIdCheck:
    """Validate against each type in turn; on failure explain the most plausible one."""
    errors: dict[str, type[Exception]] = {}
    base = _variants(value, "other", country)[-1]
    fitting = [code for code in codes if _RULES[code].fits(base)]
    tried = codes
    if all(_RULES[code].exclusive for code in codes):  # the others would refuse it anyway
        tried = (*fitting, *(code for code in codes if code not in fitting))
    for code in tried:
        for text in _variants(value, code, country):
            compact, error = _attempt(code, text)
            if error is None:
                return _valid(code, compact, country)
            errors[code] = error  # the last spelling (without prefix) explains best
    code = fitting[0] if fitting else codes[0]
    # With nothing fitting, name every type of the country: "wrong length for a CPF/CNPJ".
    label = "/".join(dict.fromkeys(TAX_ID_TYPES[c].label for c in fitting[:1] or codes))
    reason = _reason(code, errors[code], label, country)
    # A bad check digit means the number has this country's shape: no other country to suggest.
    other = (
        _other_country(value, country) if hint and errors[code] is not exc.InvalidChecksum else None
    )
    if other is not None:
        reason = gettext("This looks like a %(label)s from %(other)s, not from %(country)s.") % {
            "label": other[0],
            "other": _country_name(other[1]),
            "country": _country_name(country),
        }
    return _invalid(value, reason, country, code)


def _check_prefixed(value: str) -> TaxIdCheck | None:
    """Validate a number that starts with an EU VAT prefix as that country's, else None."""
    compact = compact_tax_id(value)
    country = _VAT_PREFIXES.get(compact[:2])
    if country is None or len(compact) <= 2:
        return None
    # Spain and Portugal have national types: store their NIF without the VAT prefix.
    return _check_codes(value, country, _NATIONAL.get(country, ("eu_vat",)))


def _other_country(value: str, exclude: str) -> tuple[str, str] | None:
    """(label, country) when the number validates for exactly one other country."""
    compact = compact_tax_id(value)
    found = {
        TAX_ID_TYPES[code].country: TAX_ID_TYPES[code].label
        for code in _HINT_TYPES
        if TAX_ID_TYPES[code].country != exclude and _attempt(code, compact)[1] is None
    }
    if len(found) != 1:
        return None
    ((country, label),) = found.items()
    return label, country


def check_tax_id(
    value: str, country: str | None = None, tax_id_type: str | None = None
) -> TaxIdCheck:
    """Validate a tax id for a country (or guess it) and say what it implies about the holder."""
    value = value or ""
    country = (country or "").strip().upper()
    if not compact_tax_id(value):
        return _invalid(value, gettext("This field is required."), country, tax_id_type or "")
    if tax_id_type:
        tax_type = TAX_ID_TYPES.get(tax_id_type)
        if tax_type is None:
            return _invalid(value, gettext("Unknown tax id type."), country, tax_id_type)
        return _check_codes(value, tax_type.country or country, (tax_type.code,))

    if not country:
        prefixed = _check_prefixed(value)
        if prefixed is not None and prefixed.valid:
            return prefixed
        spanish = _check_codes(value, "ES", _NATIONAL["ES"])
        if spanish.valid:
            return spanish
        if prefixed is not None:  # the VAT prefix says which country was meant
            return prefixed
        other = _other_country(value, exclude="")
        if other is None:
            return _invalid(value, gettext("Choose the tax country to validate this id."), "", "")
        reason = gettext("This looks like a %(label)s from %(other)s: choose that tax country.")
        return _invalid(
            value, reason % {"label": other[0], "other": _country_name(other[1])}, "", ""
        )

    codes = _NATIONAL.get(country) or (("eu_vat",) if country in _EU_COUNTRIES else ("other",))
    national = _check_codes(value, country, codes, hint=codes != ("other",))
    # A valid VAT number of another EU country wins over the country chosen in the form.
    prefixed = None if national.valid else _check_prefixed(value)
    return prefixed if prefixed is not None and prefixed.valid else national


def format_tax_id(compact: str, country: str, tax_id_type: str) -> str:
    """Format a stored compact tax id for display, falling back to the compact value."""
    rule = _RULES.get(tax_id_type)
    if not compact or rule is None or rule.format is None:
        return compact
    try:
        return str(rule.format(compact))
    except Exception:  # a display helper must never break a page
        return compact


def tax_id_type_choices() -> list[tuple[str, str]]:
    """Return (code, label) pairs for a form select, national types first."""
    choices = []
    for tax_type in _TYPES:
        if tax_type.code == "other":
            choices.append((tax_type.code, gettext("Other")))
        elif tax_type.country:
            choices.append((tax_type.code, f"{tax_type.label} ({tax_type.country})"))
        else:
            choices.append((tax_type.code, tax_type.label))
    return choices
