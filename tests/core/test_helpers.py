"""Countries, regions, postal codes, phones and text folding."""

from __future__ import annotations

import contextlib

import phonenumbers
import pytest
from django.utils import translation
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cartera.core.countries import country_name, is_region_of, region_choices, region_name
from cartera.core.phones import (
    PhoneError,
    _national_without_parsing,
    _read_national,
    format_phone,
    is_mobile,
    national_digits,
    normalize_phone,
    read_phone,
)
from cartera.core.postal import postal_code_error, region_for_postal_code
from cartera.core.text import fold, squash


@pytest.mark.parametrize(
    ("text", "folded", "squashed"),
    [
        ("Muñoz  Pérez", "munoz perez", "munozperez"),
        ("B-1234567.4", "b-1234567.4", "b12345674"),
        ("ÁLVAREZ Ñandú", "alvarez nandu", "alvareznandu"),
    ],
)
def test_fold_and_squash(text: str, folded: str, squashed: str) -> None:
    assert fold(text) == folded
    assert squash(text) == squashed


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+34 600 11 22 33", None, "+34600112233"),
        ("600112233", "ES", "+34600112233"),
        ("0034 91 123 45 67", None, "+34911234567"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("+54 9 11 2345-6789", None, "+5491123456789"),
    ],
)
def test_phones_are_stored_in_e164(typed: str, region: str | None, e164: str) -> None:
    assert normalize_phone(typed, region) == e164


def test_phone_errors_say_why() -> None:
    with translation.override("es"), pytest.raises(PhoneError, match="prefijo"):
        normalize_phone("600112233", None)
    with translation.override("es"), pytest.raises(PhoneError, match="no es válido"):
        normalize_phone("+34 100", None)
    # words are not a number, an unknown prefix is named as such, an extension is no word
    with translation.override("es"):
        for typed, region in (("abc-123", None), ("abc-123", "ES"), ("llamar tarde", "ES")):
            with pytest.raises(PhoneError, match=r"^Esto no es un número de teléfono\.$"):
                normalize_phone(typed, region)
        with pytest.raises(PhoneError, match=r"^Ningún país tiene este prefijo internacional\.$"):
            normalize_phone("+999 123 456", "ES")
    assert normalize_phone("+34 910 00 00 01 ext. 12", None) == "+34910000001"


def _typed_phones() -> list[tuple[str, str | None]]:
    """Each region's example numbers as people type them, and a digit short or over."""
    typed: list[tuple[str, str | None]] = []
    kinds = phonenumbers.PhoneNumberType
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (kinds.FIXED_LINE, kinds.MOBILE, kinds.TOLL_FREE, kinds.VOIP):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            typed += [(national, region), (national, "ES"), ("00" + e164[1:], None),
                      (e164[:-1], None), (e164 + "9", None)]  # fmt: skip
    return typed


def test_reading_a_phone_once_tells_what_normalising_and_reading_it_back_tell() -> None:
    # given every region's example numbers, typed nationally, abroad, short or long
    valid = 0
    for typed, region in _typed_phones():
        # when a phone is read once for its E.164 form and its kind of line
        try:
            read = read_phone(typed, region)
        except PhoneError as error:
            # then it fails as normalising it fails, with the same reason
            with pytest.raises(PhoneError) as expected:
                normalize_phone(typed, region)
            assert str(error) == str(expected.value), typed
            text = "+" + typed[2:] if typed.startswith("00") else typed
            with contextlib.suppress(phonenumbers.NumberParseException):
                assert not phonenumbers.is_valid_number(phonenumbers.parse(text, region)), typed
            continue
        # or gives what normalising it, then asking whether the result is a mobile, gives
        assert read == (normalize_phone(typed, region), is_mobile(read.e164)), typed
        # and only valid numbers are read, as phonenumbers judges them
        assert phonenumbers.is_valid_number(phonenumbers.parse(read.e164)), typed
        valid += 1
    assert valid > 200  # most examples are valid where they are typed


def _parsed(text: str, region: str) -> tuple[str, int] | None:
    """What phonenumbers makes of a number typed in a region (its code in either case, as the
    register takes it): E.164 and type, None if invalid."""
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return None
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind


_TYPES = [getattr(phonenumbers.PhoneNumberType, name) for name in (
    "FIXED_LINE", "MOBILE", "TOLL_FREE", "PREMIUM_RATE", "SHARED_COST", "VOIP",
    "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL")]  # fmt: skip
_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
# The regions whose numbers can be read without parsing: their plan has no national prefix.
_PLAIN_REGIONS = [
    region
    for region in _REGIONS
    if not phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix_for_parsing
]


def _national_writings() -> st.SearchStrategy[tuple[str, str]]:
    """Digits as people type them: every region's example numbers of every type, with digits
    changed, cut or added, the country code in front, separators, the region in lower case;
    and anything else."""

    def near_example(region: str, kind: int, changes: list[tuple[int, str]], cut: int,
                     extra: str, code: bool, separator: str, lower: bool
                     ) -> tuple[str, str]:  # fmt: skip
        example = phonenumbers.example_number_for_type(region, kind)
        example = example or phonenumbers.example_number(region)
        digits = list(str(example.national_number) if example else "1")
        for at, digit in changes:
            digits[at % len(digits)] = digit
        text = "".join(digits[: cut or len(digits)]) + extra
        if code and example:
            text = str(example.country_code) + text
        text = separator.join([text[:3], text[3:6], text[6:]]).strip(separator)
        return text, region.lower() if lower else region

    digit = st.sampled_from("0123456789")
    examples = st.builds(
        near_example,
        st.one_of(st.sampled_from(_PLAIN_REGIONS), st.sampled_from(_REGIONS)),
        st.sampled_from(_TYPES),
        st.lists(st.tuples(st.integers(0, 15), digit), max_size=3),
        st.sampled_from([0, 0, 0, 2, 5, 7]),
        st.text("0123456789", max_size=2),
        st.booleans(),
        st.sampled_from(["", "", " ", ".", "-", "  "]),
        st.booleans(),
    )
    anything = st.tuples(st.text("0123456789 .-+()", min_size=1, max_size=16),
                         st.sampled_from(_REGIONS))  # fmt: skip
    spanish = st.tuples(st.text("0123456789 ", min_size=9, max_size=12), st.just("ES"))
    return st.one_of(examples, examples, examples, anything, spanish)


@settings(max_examples=4000, deadline=None)
@given(typed=_national_writings())
@example(typed=("29060", "TA"))  # a region whose numbers its sibling's plan judges
@example(typed=("358710110", "AX"))  # the country code in front, a national prefix
def test_a_national_number_read_without_parsing_reads_as_parsing_reads_it(
    typed: tuple[str, str],
) -> None:
    text, region = typed
    parsed = _parsed(text, region)
    # the quick reading, when there is one, is what parsing reads
    quick = _read_national(text, region)
    if quick is not None:
        assert quick == parsed
    # and normalising a valid number gives parsing's E.164 form, quick reading or not
    if parsed is not None:
        assert normalize_phone(text, region) == parsed[0]


def test_most_national_numbers_are_read_without_parsing() -> None:
    # given every region's example numbers, written as national digits where they are
    read = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is None or example.italian_leading_zero:
            continue
        text = str(example.national_number)
        quick = _read_national(text, region)
        if quick is not None:
            # the quick reading agrees with parsing (so the property test above compares)
            assert quick == _parsed(text, region), (text, region)
            read += 1
    # Spain's, Mexico's and many other plans are read so
    assert _read_national("612 34 56 78", "ES") == _parsed("612345678", "ES")
    assert read > 60


def test_national_digits_are_phonenumbers_national_number() -> None:
    # given every region's example numbers in E.164, as the validator stores them
    kinds = phonenumbers.PhoneNumberType
    numbers = [
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in (kinds.FIXED_LINE, kinds.MOBILE, kinds.TOLL_FREE, kinds.PREMIUM_RATE)
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    # then each one's national digits are the national number phonenumbers parses
    for e164 in numbers:
        assert national_digits(e164) == str(phonenumbers.parse(e164).national_number), e164
    # and Spanish numbers, like those of most plans, are not parsed again for it
    assert _national_without_parsing("+34600112233") == "600112233"
    assert sum(_national_without_parsing(e164) is not None for e164 in numbers) > 100
    assert national_digits("not a phone") == ""


def test_phones_show_nationally_at_home_and_internationally_abroad() -> None:
    assert format_phone("+34600112233", "ES") == "600 11 22 33"
    assert format_phone("+34600112233", "MX") == "+34 600 11 22 33"
    assert is_mobile("+34600112233") is True
    assert is_mobile("+34911234567") is False


@pytest.mark.parametrize(
    ("code", "country", "ok"),
    [
        ("28013", "ES", True),
        ("53001", "ES", False),
        ("2801", "ES", False),
        ("06600", "MX", True),
        ("C1043AAZ", "AR", True),
        ("1043", "AR", True),
        ("110111", "CO", True),
        ("8320000", "CL", True),
        ("ABC 123", "ZZ", True),
    ],
)
def test_postal_codes_by_country(code: str, country: str, ok: bool) -> None:
    assert (postal_code_error(code, country) is None) is ok


def test_spanish_postal_code_implies_the_province() -> None:
    assert region_for_postal_code("08001", "ES") == "ES-B"
    assert region_for_postal_code("28013", "ES") == "ES-M"
    assert region_for_postal_code("51001", "ES") == "ES-CE"
    assert region_for_postal_code("06600", "MX") is None


def test_regions_and_countries_are_named_in_the_active_language() -> None:
    with translation.override("es"):
        assert country_name("ES") == "España"
        assert country_name("MX") == "México"
        assert ("ES-M", "Madrid") in region_choices("ES")
        assert region_name("MX-JAL") == "Jalisco"
    with translation.override("en"):
        assert country_name("ES") == "Spain"
    assert is_region_of("ES-M", "ES")
    assert not is_region_of("MX-JAL", "ES")
    # provinces, not autonomous communities, for Spain
    assert "ES-MD" not in dict(region_choices("ES"))


def test_provinces_show_their_official_name_and_are_read_by_either() -> None:
    # given provinces ISO writes with another name in brackets ("A Coruña [La Coruña]")
    from cartera.transfer.fields import as_region

    # then they show their official name alone, in lists and on their own
    for language in ("es", "en"):
        with translation.override(language):
            assert region_name("ES-C") == "A Coruña" and region_name("ES-B") == "Barcelona"
            assert not any("[" in name for _code, name in region_choices("ES"))
    # and a file may still name them either way
    assert as_region("La Coruña", "ES") == as_region("A Coruña", "ES") == "ES-C"
    assert as_region("Gerona", "ES") == "ES-GI"
