"""Phone numbers: stored in E.164, shown in the national format of their country."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from django.utils.translation import gettext as _


class PhoneError(ValueError):
    pass


class Phone(NamedTuple):
    """A phone as typed, read once: its E.164 form and whether it is a mobile (True), a
    landline (False) or the numbering plan does not tell (None)."""

    e164: str
    mobile: bool | None


def _read(value: str, region: str | None) -> tuple[str, int]:
    """The E.164 form and the type of the valid number a phone typed in any common writing
    stands for; raises PhoneError with a reason."""
    text = value.strip()
    return _read_national(text, region) or _read_parsed(text, region)


# Letters in a phone: words, unless they only say an extension ("ext. 12", "x12").
_LETTER = re.compile(r"[^\W\d_]")
_EXTENSION = re.compile(r"(?i)(?:ext|extensi[oó]n|x)\.?\s*\d+\s*$")


def _read_parsed(text: str, region: str | None) -> tuple[str, int]:
    if text.startswith("00"):
        text = "+" + text[2:]
    if _LETTER.search(_EXTENSION.sub("", text)):
        raise PhoneError(_("This is not a phone number."))  # "abc-123", not a vanity number
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type != phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise PhoneError(_("This is not a phone number.")) from exc
        if text.startswith("+"):
            raise PhoneError(_("No country has this international prefix.")) from exc
        raise PhoneError(
            _("Add the international prefix (for example +34) or choose the country.")
        ) from exc
    # ``is_valid_number`` is this test: the number's type in the plan of its own region.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise PhoneError(_("This phone number is not valid for its country."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind


_NATIONAL_WRITING = re.compile(r"[1-9][0-9]*(?:[ .-][0-9]+)*")


class _Plan(NamedTuple):
    country_code: int
    lengths: frozenset[int]
    general: re.Pattern[str]  # every number of the region's plan
    international_prefix: re.Pattern[str]


@cache
def _plain_plan(region: str) -> _Plan | None:
    """What reading a national number of the region needs, for a plan with nothing to strip
    from such a number (no national prefix: Spain, Mexico, Portugal, Italy…); else None."""
    plan = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if (
        plan is None
        or plan.country_code is None
        or plan.general_desc is None
        or plan.national_prefix_for_parsing
        or not plan.international_prefix
    ):
        return None
    return _Plan(plan.country_code, frozenset(plan.general_desc.possible_length or ()),
                 re.compile(plan.general_desc.national_number_pattern or "(?!)"),
                 re.compile(plan.international_prefix))  # fmt: skip


def _read_national(text: str, region: str | None) -> tuple[str, int] | None:
    """``_read`` of a valid national number written with digits (and spaces, dots or dashes)
    alone, without parsing it; None for everything else, which parsing reads (and explains).

    Parsing strips a national prefix (plans without one only come here), an international
    prefix (numbers that start like one are left to it) or the country code (only from a
    number too long for the region's plan or outside it: such numbers are left to it too)
    from the front of such a number: so a valid number here is what was typed, and its type
    the plan's answer, as parsing finds them."""
    if not region or not _NATIONAL_WRITING.fullmatch(text):
        return None
    plan = _plain_plan(region)
    if plan is None:
        return None
    digits = text.replace(" ", "").replace(".", "").replace("-", "")
    if (
        len(digits) not in plan.lengths
        or not plan.general.fullmatch(digits)
        or plan.international_prefix.match(digits)
    ):
        return None
    number = phonenumbers.PhoneNumber(country_code=plan.country_code, national_number=int(digits))
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    return f"+{plan.country_code}{digits}", kind


def normalize_phone(value: str, region: str | None) -> str:
    """E.164 form of a phone typed in any common writing; raises PhoneError with a reason."""
    return _read(value, region)[0]


@lru_cache(maxsize=4096)  # a file repeats a switchboard's number; errors are not kept
def read_phone(value: str, region: str | None) -> Phone:
    """``normalize_phone`` and ``is_mobile`` of its result from one reading (the E.164 form of
    a valid number reads back as the same number); raises PhoneError with a reason."""
    e164, kind = _read(value, region)
    return Phone(e164, _mobile(kind))


def format_phone(e164: str, home_region: str | None = None) -> str:
    """National format for numbers of the home country, international for the rest."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    if home_region and region == home_region.upper():
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_region(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def is_mobile(e164: str) -> bool | None:
    """True for mobiles, False for landlines, None when the plan does not tell."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return _mobile(kind)


def _mobile(kind: int) -> bool | None:
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        return False
    return None


def national_digits(e164: str) -> str:
    """The national number of an E.164 phone (``+34600112233``: ``600112233``), as the search
    matches it."""
    quick = _national_without_parsing(e164)
    if quick is not None:
        return quick
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return ""


_E164 = re.compile(r"\+([1-9]\d{6,14})")


def _national_without_parsing(e164: str) -> str | None:
    """``national_digits`` without parsing the number again (that parse cost an import as much
    as the rest of a customer's search text), when its country's plan has no national prefix
    that parsing could strip (Spain, Mexico, Portugal, Italy…); None for the others."""
    found = _E164.fullmatch(e164)
    if found is None:
        return None
    digits = found.group(1)
    for size in (1, 2, 3):  # the country code, found as phonenumbers finds it
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return str(int(digits[size:])) if _strips_nothing(code) else None
    return None


@cache
def _strips_nothing(country_code: int) -> bool:
    region = phonenumbers.region_code_for_country_code(country_code)
    plan = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    return plan is not None and not plan.national_prefix_for_parsing
