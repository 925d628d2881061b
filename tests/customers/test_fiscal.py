"""Tests for tax id validation (cartera.customers.fiscal)."""

import random
from collections.abc import Iterator

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.ar import cuit
from stdnum.cl import rut
from stdnum.es import cif, dni, nie, nif
from stdnum.mx import rfc
from stdnum.pe import ruc

from cartera.customers.fiscal import (
    COUNTRIES_WITH_TAX_IDS,
    TAX_ID_TYPES,
    check_tax_id,
    compact_tax_id,
    es_validate,
    format_tax_id,
    tax_id_type_choices,
)

CHECKSUM = "The check digit does not match: the number is mistyped."
NOT_VALIDATED_IN_JAPAN = (
    "Tax ids for Japan are not validated: only letters, digits and separators are accepted."
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    # Reasons are compared verbatim, so pin the language whatever the settings default is.
    with translation.override("en"):
        yield


def _with_check_digit(module: object, body: str) -> str:
    return body + module.calc_check_digit(body)  # type: ignore[attr-defined]


# Published ids of well-known companies; every one was confirmed with python-stdnum.
@pytest.mark.parametrize(
    ("value", "country", "tax_id_type", "compact", "kind", "legal_form"),
    [
        ("A28015865", "ES", "es_cif", "A28015865", "organization", "SA"),  # Telefónica
        ("A39000013", "ES", "es_cif", "A39000013", "organization", "SA"),  # Banco Santander
        ("A15075062", "ES", "es_cif", "A15075062", "organization", "SA"),  # Inditex
        ("A46103834", "ES", "es_cif", "A46103834", "organization", "SA"),  # Mercadona
        ("ESA46103834", "ES", "es_cif", "A46103834", "organization", "SA"),  # Mercadona VAT
        ("20100047218", "PE", "pe_ruc", "20100047218", "organization", None),  # BCP
        ("30-50001091-2", "AR", "ar_cuit", "30500010912", "organization", None),  # YPF
        ("96.505.760-9", "CL", "cl_rut", "965057609", "organization", None),  # Falabella
        ("97.004.000-5", "CL", "cl_rut", "970040005", "organization", None),  # Banco de Chile
        ("890.903.938-8", "CO", "co_nit", "8909039388", "organization", None),  # Bancolombia
        ("33.000.167/0001-01", "BR", "br_cnpj", "33000167000101", "organization", None),
        ("500697256", "PT", "pt_nif", "500697256", "organization", None),
        ("04-2103594", "US", "us_ein", "042103594", "organization", None),
        ("DE136695976", "DE", "eu_vat", "DE136695976", None, None),
    ],
)
def test_published_company_ids_are_valid(
    value: str,
    country: str,
    tax_id_type: str,
    compact: str,
    kind: str | None,
    legal_form: str | None,
) -> None:
    # Given a real id typed as it appears on invoices, when checked for its country
    result = check_tax_id(value, country)

    # Then it is valid, stored compact, and says who holds it
    assert result.valid, result.reason
    assert result.reason == ""
    assert (result.tax_id_type, result.compact, result.country) == (tax_id_type, compact, country)
    assert (result.kind, result.legal_form) == (kind, legal_form)


@pytest.mark.parametrize(
    ("value", "tax_id_type"),
    [("12345678Z", "es_nif"), ("X1234567L", "es_nie"), ("k1234567l", "es_nif")],
)
def test_spanish_people_without_country_are_guessed(value: str, tax_id_type: str) -> None:
    result = check_tax_id(value)

    assert result.valid
    assert (result.country, result.tax_id_type, result.kind) == ("ES", tax_id_type, "person")
    assert result.legal_form is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("XAXX010101000", "person"),  # público en general: breaks the check digit rule
        ("XEXX010101000", "person"),  # foreigners: likewise
        ("GODE561231GR8", "person"),
        ("MAB9307148T4", "organization"),
        (_with_check_digit(rfc, "ABC680524P7"), "organization"),
    ],
)
def test_mexican_rfc_kind_follows_its_length(value: str, kind: str) -> None:
    result = check_tax_id(value, "MX")

    assert result.valid, result.reason
    assert (result.tax_id_type, result.kind) == ("mx_rfc", kind)


def test_mexican_rfc_check_digit_is_verified() -> None:
    good = _with_check_digit(rfc, "GODE561231GR")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    assert check_tax_id(good, "MX").valid
    assert check_tax_id(bad, "MX").reason == CHECKSUM


@pytest.mark.parametrize(
    ("value", "country", "reason"),
    [
        ("A28015866", "ES", CHECKSUM),
        ("ESA28015866", None, CHECKSUM),
        ("A2801586", "ES", "The number has the wrong length for a CIF."),
        ("123", "ES", "The number has the wrong length for a NIF."),
        ("X12A4567L", "ES", "The format is not that of a NIE."),
        ("2010004721", "PE", "The number has the wrong length for a RUC/DNI."),
        ("20100047219", "PE", CHECKSUM),
        ("40100047218", "PE", "Part of the number is not valid for a RUC."),
        ("123456789012", "BR", "The number has the wrong length for a CPF/CNPJ."),
        ("COMG600703", "MX", "The number has the wrong length for a RFC."),
        ("81234567", "PA", "The format is not that of a RUC."),
        ("12345", "HN", "The number has the wrong length for a RTN."),
        ("", "ES", "This field is required."),
        (" - . ", None, "This field is required."),
        ("garbage!!", None, "Choose the tax country to validate this id."),
        ("A28015866", None, "Choose the tax country to validate this id."),
        ("#$%", "JP", NOT_VALIDATED_IN_JAPAN),
        ("AB", "JP", "A tax id has between 3 and 30 letters or digits."),
    ],
)
def test_invalid_ids_get_a_specific_reason(value: str, country: str | None, reason: str) -> None:
    result = check_tax_id(value, country)

    assert not result.valid
    assert result.reason == reason
    assert result.kind is None
    assert result.legal_form is None


def test_an_id_from_another_country_says_so() -> None:
    # Given YPF's Argentine CUIT typed for a Spanish customer
    result = check_tax_id("30-50001091-2", "ES")

    # Then the reason points at Argentina instead of a bare "wrong length"
    assert not result.valid
    assert result.reason == "This looks like a CUIT/CUIL from Argentina, not from Spain."
    assert result.country == "ES"


def test_an_id_from_another_country_names_it_in_the_users_language() -> None:
    with translation.override("es"):
        reason = check_tax_id("30-50001091-2", "ES").reason

    assert "España" in reason


def test_without_country_a_foreign_id_suggests_its_country() -> None:
    result = check_tax_id("30500010912")

    assert not result.valid
    assert result.reason == "This looks like a CUIT/CUIL from Argentina: choose that tax country."


@pytest.mark.parametrize(
    ("letter", "legal_form"),
    [("A", "SA"), ("B", "SL"), ("F", "COOP"), ("G", "ASOC"), ("U", "UTE"), ("N", None)],
)
def test_cif_letter_gives_the_legal_form(letter: str, legal_form: str | None) -> None:
    body = f"{letter}1234567"
    value = body + cif.calc_check_digits(body)[0]

    result = check_tax_id(value, "ES")

    assert result.valid, result.reason
    assert (result.kind, result.legal_form) == ("organization", legal_form)


@pytest.mark.parametrize(
    ("module", "country", "body", "kind"),
    [
        (ruc, "PE", "1012345678", "person"),
        (ruc, "PE", "2012345678", "organization"),
        (cuit, "AR", "2012345678", "person"),
        (cuit, "AR", "3012345678", "organization"),
        (rut, "CL", "12345678", "person"),
        (rut, "CL", "76086428", "organization"),
    ],
)
def test_prefix_or_range_tells_person_from_organization(
    module: object, country: str, body: str, kind: str
) -> None:
    result = check_tax_id(_with_check_digit(module, body), country)

    assert result.valid, result.reason
    assert result.kind == kind


@pytest.mark.parametrize(
    ("value", "country"),
    [("ESB12345674", None), ("ESB12345674", "FR"), ("ES B-1234567-4", "MX")],
)
def test_spanish_vat_prefix_infers_spain_and_is_stored_without_it(
    value: str, country: str | None
) -> None:
    result = check_tax_id(value, country)

    assert result.valid, result.reason
    assert (result.country, result.tax_id_type, result.compact) == ("ES", "es_cif", "B12345674")
    assert (result.kind, result.legal_form) == ("organization", "SL")


@pytest.mark.parametrize(
    ("value", "country", "expected_country", "compact"),
    [
        ("FR40303265045", None, "FR", "FR40303265045"),
        ("FR 403 032 650 45", "MX", "FR", "FR40303265045"),
        ("40303265045", "FR", "FR", "FR40303265045"),
        ("EL094259216", None, "GR", "EL094259216"),
        ("094259216", "GR", "GR", "EL094259216"),
    ],
)
def test_other_eu_vat_numbers_keep_their_prefix(
    value: str, country: str | None, expected_country: str, compact: str
) -> None:
    result = check_tax_id(value, country)

    assert result.valid, result.reason
    assert (result.tax_id_type, result.country, result.compact) == (
        "eu_vat",
        expected_country,
        compact,
    )


def test_compact_and_formatted_forms() -> None:
    # Given a Spanish SL CIF typed in lower case with dashes
    body = "B1234567"
    typed = f"b-{body[1:]}-{cif.calc_check_digits(body)[0]}".lower()

    # When checked
    result = check_tax_id(typed, "ES")

    # Then it is stored and shown upper-case and without separators
    assert result.compact == result.formatted == body + cif.calc_check_digits(body)[0]

    argentine = check_tax_id("30500010912", "AR")
    assert argentine.formatted == "30-50001091-2"
    assert check_tax_id("965057609", "CL").formatted == "96.505.760-9"
    assert check_tax_id("20100047218", "PE").formatted == "20100047218"


def test_panama_ruc_keeps_its_meaningful_dashes() -> None:
    result = check_tax_id("8-123-4567", "PA")

    assert result.valid
    assert result.compact == "8-123-4567"
    assert not TAX_ID_TYPES["pa_ruc"].checksum


@pytest.mark.parametrize(
    ("value", "country"),
    [("1234567", "BO"), ("12345678901234", "HN"), ("PE-12-345", "PA"), ("ABC-123", "JP")],
)
def test_format_only_countries_accept_well_shaped_ids(value: str, country: str) -> None:
    result = check_tax_id(value, country)

    assert result.valid, result.reason
    assert result.kind is None


def test_explicit_type_is_the_only_one_tried() -> None:
    assert check_tax_id("12345678Z", "ES", "es_nif").valid
    assert check_tax_id("12345678Z", "ES", "es_cif").reason == "The format is not that of a CIF."
    assert check_tax_id("30500010912", None, "ar_cuit").country == "AR"
    assert check_tax_id("30500010912", None, "nope").reason == "Unknown tax id type."

    vat = check_tax_id("A46103834", "ES", "eu_vat")
    assert (vat.valid, vat.tax_id_type, vat.compact) == (True, "eu_vat", "ESA46103834")


def test_format_tax_id_falls_back_to_the_compact_value() -> None:
    assert format_tax_id("30500010912", "AR", "ar_cuit") == "30-50001091-2"
    assert format_tax_id("33000167000101", "BR", "br_cnpj") == "33.000.167/0001-01"
    assert format_tax_id("A46103834", "ES", "es_cif") == "A46103834"
    assert format_tax_id("ABC", "XX", "unknown") == "ABC"
    assert format_tax_id("", "AR", "ar_cuit") == ""


def test_compact_tax_id_strips_separators_only() -> None:
    assert compact_tax_id(" b-12.345/67_4 ") == "B12345674"
    assert compact_tax_id("１２３４５６７８ｚ") == "12345678Z"  # full-width, pasted from a PDF
    assert compact_tax_id("ñaño&") == "ÑAÑO&"


def test_tables_are_consistent() -> None:
    codes = [code for code, _ in tax_id_type_choices()]

    assert codes == list(TAX_ID_TYPES)
    assert ("mx_rfc", "RFC (MX)") in tax_id_type_choices()
    assert {"ES", "MX", "PE", "AR", "CL", "CO", "BR", "PT", "US", "DE", "FR"} <= (
        COUNTRIES_WITH_TAX_IDS
    )
    assert all(t.code == code for code, t in TAX_ID_TYPES.items())
    assert {t.code for t in TAX_ID_TYPES.values() if not t.checksum} >= {
        "bo_nit",
        "hn_rtn",
        "pa_ruc",
        "other",
    }


def test_never_raises_on_random_input() -> None:
    rng = random.Random(20240601)
    countries = [None, "ZZ", "", "es", *sorted(COUNTRIES_WITH_TAX_IDS)]
    types = [None, "bogus", *TAX_ID_TYPES]
    alphabet = "0123456789ABCXYZ-./ ÑñK"
    for _ in range(200):
        length = rng.randint(0, 20)
        if rng.random() < 0.5:
            value = "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(length))
        else:
            value = "".join(rng.choice(alphabet) for _ in range(length))
        country = rng.choice(countries)
        tax_id_type = rng.choice(types) if rng.random() < 0.3 else None

        result = check_tax_id(value, country, tax_id_type)

        assert result.valid == (result.reason == "")
        format_tax_id(result.compact, result.country, result.tax_id_type)


def _stdnum_answer(validate: object, text: str) -> tuple[str, type[Exception] | None]:
    try:
        return str(validate(text)), None  # type: ignore[operator]
    except Exception as error:
        return "", type(error)


def _spanish_shapes() -> st.SearchStrategy[str]:
    """Texts near a Spanish NIF: right and wrong check digits, lengths, letters and prefixes."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body = st.text(alphabet="0123456789", min_size=0, max_size=10)
    first = st.sampled_from([*letters, *"0123456789", "", "ES", "es", "ESES"])
    last = st.sampled_from([*letters, *"0123456789", ""])
    near = st.builds(lambda f, b, c: f + b + c, first, body, last)
    # Valid numbers of every kind, so the equal answers are not only errors.
    valid = st.builds(
        lambda kind, digits: kind + digits[: 7 if kind else 8],
        st.sampled_from(["", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"]),  # letters of no kind too
        st.text(alphabet="0123456789", min_size=8, max_size=8),
    ).map(_with_spanish_check)
    lower = valid.map(str.lower)
    odd = st.text(alphabet="0123456789BXZes -.·\u2013１", min_size=0, max_size=12)
    return st.one_of(near, valid, lower, odd)


def _with_spanish_check(body: str) -> str:
    if body[0] in "XYZ":
        return body + nie.calc_check_digit(body)
    if body[0].isdigit() or body[0] in "KLM":
        return body + dni.calc_check_digit(body.lstrip("KLM"))
    return body + cif.calc_check_digits(body)[body[0] in "NPQRSW"]  # any other letter too


@settings(max_examples=3000, deadline=None)
@given(text=_spanish_shapes())
def test_spanish_ids_are_checked_as_stdnum_checks_them(text: str) -> None:
    """The check without stdnum's cleaning gives stdnum's answer, error kind included."""
    assert _stdnum_answer(es_validate, text) == _stdnum_answer(nif.validate, text)
