"""Phone numbers: stored in E.164, shown in the national format of their country."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _


class PhoneError(ValueError):
    pass


def normalize_phone(value: str, region: str | None) -> str:
    """E.164 form of a phone typed in any common writing; raises PhoneError with a reason."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise PhoneError(
                _("Add the international prefix (for example +34) or choose the country.")
            ) from exc
        raise PhoneError(_("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(_("This phone number is not valid for its country."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        return False
    return None


def national_digits(e164: str) -> str:
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return ""
