"""Realistic demo data: users, teams, groups, tags and customers in six countries.

``generate_customers`` plans the customers without touching the database and gives the same
plans for the same seed; ``load_demo`` resolves their references (fiscal types, legal forms,
owners...) and saves every customer through ``services.create_customer``, so the demo passes
the same validation as the forms, in one transaction.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

import phonenumbers
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from faker import Faker
from stdnum.ar import cuit
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.es import cif, dni, nie
from stdnum.mx import rfc
from stdnum.pe import ruc

from cartera.accounts.models import Role, Team, User
from cartera.core.postal import region_for_postal_code
from cartera.core.text import fold
from cartera.customers import services
from cartera.customers.fiscal import check_tax_id
from cartera.customers.models import (
    Customer,
    CustomerGroup,
    FiscalType,
    Kind,
    LeadSource,
    LegalForm,
    LossReason,
    PaymentMethod,
    Sector,
    Stage,
    Status,
    Tag,
)

PERSON = Kind.PERSON.value
ORG = Kind.ORGANIZATION.value

ADMIN_PASSWORD = "admin"
DEMO_PASSWORD = "demo-cartera"


class Writer(Protocol):
    """Anything with ``write(text)``: a text file or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


# --- templates -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{([^{}]+)\}|#|@")


def fill(template: str, rng: random.Random) -> str:
    """Expand ``#`` (digit), ``@`` (letter), ``{a-b}`` (zero-padded number) and ``{x|y}``."""

    def expand(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "#":
            return str(rng.randrange(10))
        if token == "@":
            return rng.choice(string.ascii_uppercase)
        body = match.group(1)
        if "|" in body:
            return rng.choice(body.split("|"))
        low, high = body.split("-")
        return str(rng.randint(int(low), int(high))).zfill(len(low))

    return _TOKEN.sub(expand, template)


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    """One key of ``weights``, chosen with probability proportional to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def apportion(n: int, weights: Mapping[str, float], rng: random.Random) -> list[str]:
    """``n`` keys in the proportions of ``weights`` (largest remainder), shuffled."""
    total = sum(weights.values())
    exact = {key: n * weight / total for key, weight in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    short = n - sum(counts.values())
    for key in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:short]:
        counts[key] += 1
    keys = [key for key, count in counts.items() for _ in range(count)]
    rng.shuffle(keys)
    return keys


def letters(text: str) -> str:
    """Upper-case ASCII letters of ``text``: 'Muñoz-Pérez' -> 'MUNOZPEREZ'."""
    return re.sub(r"[^A-Z]", "", fold(text).upper())


# --- tax ids ---------------------------------------------------------------------------------


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


def _es_org(rng: random.Random, holder: Holder) -> str:
    body = f"{holder.cif_letter}{holder.province}{rng.randrange(100_000):05d}"
    candidates = str(cif.calc_check_digits(body))  # the digit and the letter form
    return body + candidates[1 if holder.cif_letter in "NPQRSW" else 0]


def _es_person(rng: random.Random, holder: Holder) -> str:
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


def _mx_org(rng: random.Random, holder: Holder) -> str:
    words = _rfc_words(holder.name) or ["XXX"]
    if len(words) >= 3:
        initials = words[0][0] + words[1][0] + words[2][0]
    elif len(words) == 2:
        initials = words[0][0] + words[1][:2]
    else:
        initials = words[0][:3]
    return _rfc(rng, initials.ljust(3, "X"), _rfc_date(rng, 1980, 2022))


def _mx_person(rng: random.Random, holder: Holder) -> str:
    first = (_rfc_words(holder.surnames[0]) if holder.surnames else []) or ["X"]
    second = (_rfc_words(holder.surnames[1]) if len(holder.surnames) > 1 else []) or ["X"]
    given = _rfc_words(holder.first_name) or ["X"]
    surname = first[0]
    vowel = next((ch for ch in surname[1:] if ch in "AEIOU"), "X")
    initials = surname[0] + vowel + second[0][0] + given[0][0]
    if initials in _RFC_OFFENSIVE:  # SAT replaces the last letter of an offensive word
        initials = initials[:3] + "X"
    return _rfc(rng, initials, _rfc_date(rng, 1955, 2003))


def _co_org(rng: random.Random, holder: Holder) -> str:
    body = str(rng.randint(800_000_000, 901_999_999))
    return body + nit.calc_check_digit(body)


def _co_person(rng: random.Random, holder: Holder) -> str:
    # A person's NIT is their cédula: eight digits, or ten starting with 10 for younger people.
    body = str(
        rng.randint(10_000_000, 79_999_999)
        if rng.random() < 0.6
        else rng.randint(1_000_000_000, 1_099_999_999)
    )
    return body + nit.calc_check_digit(body)


def _ar_org(rng: random.Random, holder: Holder) -> str:
    body = f"{rng.choice(('30', '30', '30', '33'))}{rng.randint(50_000_000, 71_999_999)}"
    return body + cuit.calc_check_digit(body)


def _ar_person(rng: random.Random, holder: Holder) -> str:
    body = f"{'27' if holder.female else '20'}{rng.randint(12_000_000, 45_999_999)}"
    return body + cuit.calc_check_digit(body)


def _cl_org(rng: random.Random, holder: Holder) -> str:
    body = str(rng.randint(76_000_000, 77_999_999))
    return body + rut.calc_check_digit(body)


def _cl_person(rng: random.Random, holder: Holder) -> str:
    body = str(rng.randint(5_000_000, 25_000_000))
    return body + rut.calc_check_digit(body)


def _pe_org(rng: random.Random, holder: Holder) -> str:
    body = f"20{rng.randint(10_000_000, 61_599_999)}"
    return body + ruc.calc_check_digit(body)


def _pe_person(rng: random.Random, holder: Holder) -> str:
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


# --- countries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """A place customers are in: postal codes, region and phone numbers that agree."""

    name: str
    region: str  # ISO 3166-2; empty for Spain, where the postal code implies the province
    postal: tuple[str, ...]  # templates for fill()
    landline: str
    mobile: str = ""  # when the country's mobiles depend on the area (Argentina)
    neighbourhoods: tuple[str, ...] = ()
    locality: str = ""
    weight: int = 1


@dataclass(frozen=True)
class OrgForm:
    """A legal form an organisation may have: how it is written after the name."""

    code: str
    suffix: str
    weight: int
    cif_letter: str = ""  # Spain: the CIF letter that implies this legal form


@dataclass(frozen=True)
class CountrySpec:
    """Everything the demo needs to make customers of one country look real."""

    code: str
    name: str
    share: float
    locale: str
    team: str
    cities: tuple[City, ...]
    mobiles: tuple[str, ...]
    org_forms: tuple[OrgForm, ...]
    org_tax_id: Callable[[random.Random, Holder], str]
    person_tax_id: Callable[[random.Random, Holder], str]
    interiors: tuple[str, ...]
    exterior: str
    adjectives: tuple[tuple[str, str, str, str], ...]  # masc sg, masc pl, fem sg, fem pl
    places: tuple[str, ...]
    coop_suffix: str = ""
    association_form: str = ""  # a legal form code for associations, when the country has one
    legal_form_from_tax_id: bool = False  # Spain: the CIF letter says SA, SL, cooperative...
    two_surnames: bool = True
    streets: tuple[str, ...] = ()  # templates; empty means Faker's street names
    surnames: tuple[str, ...] = ()  # mixed with Faker's surnames
    neighbourhood_share: float = 0.0
    eur_rate: int = 1  # rough value of one euro, to make amounts plausible


# One city per line: name, region (ES: implied by the postal code), postal code templates,
# landline template, then mobile template (Argentina), neighbourhoods, locality and weight.
# fmt: off
COUNTRIES: dict[str, CountrySpec] = {
    "ES": CountrySpec(
        code="ES", name="España", share=40, locale="es_ES", team="Iberia",
        cities=(
            City("Madrid", "", ("280{01-55}",), "91# ### ###", weight=8),
            City("Getafe", "", ("2890{1-9}",), "91# ### ###"),
            City("Alcalá de Henares", "", ("2880{1-7}",), "91# ### ###"),
            City("Barcelona", "", ("080{01-42}",), "93# ### ###", weight=6),
            City("Sabadell", "", ("0820{1-8}",), "93# ### ###"),
            City("L'Hospitalet de Llobregat", "", ("0890{1-8}",), "93# ### ###"),
            City("Valencia", "", ("460{01-26}",), "96# ### ###", weight=3),
            City("Sevilla", "", ("410{01-20}",), "95# ### ###", weight=3),
            City("Zaragoza", "", ("500{01-21}",), "976 ### ###", weight=2),
            City("Málaga", "", ("290{01-18}",), "952 ### ###", weight=2),
            City("Bilbao", "", ("480{01-15}",), "944 ### ###", weight=2),
            City("Alicante", "", ("030{01-16}",), "965 ### ###"),
            City("Valladolid", "", ("470{01-16}",), "983 ### ###"),
            City("Vigo", "", ("362{01-16}",), "986 ### ###"),
            City("Gijón", "", ("332{01-13}",), "985 ### ###"),
            City("A Coruña", "", ("150{01-15}",), "981 ### ###"),
            City("Granada", "", ("180{01-15}",), "958 ### ###"),
            City("Murcia", "", ("300{01-12}",), "968 ### ###"),
            City("Palma", "", ("070{01-15}",), "971 ### ###"),
            City("Las Palmas de Gran Canaria", "", ("350{01-19}",), "928 ### ###"),
            City("Santander", "", ("390{01-12}",), "942 ### ###"),
            City("Pamplona", "", ("310{01-15}",), "948 ### ###"),
            City("Córdoba", "", ("140{01-14}",), "957 ### ###"),
            City("Toledo", "", ("450{01-08}",), "925 ### ###"),
            City("Logroño", "", ("260{01-09}",), "941 ### ###"),
            City("Badajoz", "", ("060{01-11}",), "924 ### ###"),
        ),
        mobiles=("6## ### ###", "+34 6## ## ## ##"),
        org_forms=(OrgForm("SL", "SL", 75, "B"), OrgForm("SA", "SA", 25, "A")),
        org_tax_id=_es_org, person_tax_id=_es_person,
        interiors=("{1-9}º {A|B|C|D}", "{1-6}º {Izda.|Dcha.}", "Bajo {A|B}", "Local {1-12}"),
        exterior="{1-180}",
        adjectives=(
            ("Ibérico", "Ibéricos", "Ibérica", "Ibéricas"),
            ("Mediterráneo", "Mediterráneos", "Mediterránea", "Mediterráneas"),
            ("Cantábrico", "Cantábricos", "Cantábrica", "Cantábricas"),
            ("Castellano", "Castellanos", "Castellana", "Castellanas"),
            ("Atlántico", "Atlánticos", "Atlántica", "Atlánticas"),
        ),
        places=("del Levante", "del Norte", "del Sur", "de Castilla", "del Ebro", "de Levante"),
        coop_suffix="S. Coop.", legal_form_from_tax_id=True,
    ),
    "MX": CountrySpec(
        code="MX", name="México", share=12, locale="es_MX", team="México y Colombia",
        cities=(
            City("Cuauhtémoc", "MX-CMX", ("06###",), "55 #### ####", "",
                 ("Centro", "Roma Norte", "Juárez", "Condesa", "Doctores"), "Ciudad de México", 3),
            City("Benito Juárez", "MX-CMX", ("03###",), "55 #### ####", "",
                 ("Del Valle", "Narvarte", "Portales", "Nápoles"), "Ciudad de México", 2),
            City("Miguel Hidalgo", "MX-CMX", ("11###",), "55 #### ####", "",
                 ("Polanco", "Anzures", "Lomas de Chapultepec", "Tacuba"), "Ciudad de México", 2),
            City("Guadalajara", "MX-JAL", ("44###",), "33 #### ####", "",
                 ("Americana", "Providencia", "Centro", "Ladrón de Guevara"), weight=2),
            City("Zapopan", "MX-JAL", ("45###",), "33 #### ####", "",
                 ("Ciudad del Sol", "Jardines Universidad", "Ciudad Granja")),
            City("Monterrey", "MX-NLE", ("64###",), "81 #### ####", "",
                 ("Centro", "Obispado", "Mitras Centro", "Contry"), weight=2),
            City("San Pedro Garza García", "MX-NLE", ("66###",), "81 #### ####", "",
                 ("Del Valle", "Valle Oriente", "Fuentes del Valle")),
            City("Puebla", "MX-PUE", ("72###",), "222 ### ####", "",
                 ("Centro", "La Paz", "Huexotitla")),
            City("Querétaro", "MX-QUE", ("76###",), "442 ### ####", "",
                 ("Centro", "Jurica", "Álamos 2a Sección")),
            City("León", "MX-GUA", ("37###",), "477 ### ####", "",
                 ("Centro", "Jardines del Moral", "León Moderno")),
            City("Mérida", "MX-YUC", ("97###",), "999 ### ####", "",
                 ("Centro", "García Ginerés", "Itzimná")),
            City("Tijuana", "MX-BCN", ("22###",), "664 ### ####", "",
                 ("Zona Río", "Chapultepec", "Otay Universidad")),
            City("Aguascalientes", "MX-AGU", ("20###",), "449 ### ####", "",
                 ("Centro", "Jardines de la Asunción")),
            City("Toluca", "MX-MEX", ("50###",), "722 ### ####", "",
                 ("Centro", "Universidad", "Américas")),
        ),
        mobiles=("55 #### ####", "33 #### ####", "81 #### ####", "+52 55 #### ####"),
        org_forms=(
            OrgForm("SA de CV", "SA de CV", 60), OrgForm("S de RL de CV", "S de RL de CV", 25),
            OrgForm("SAPI de CV", "SAPI de CV", 5), OrgForm("SAS", "SAS", 10),
        ),
        org_tax_id=_mx_org, person_tax_id=_mx_person,
        interiors=("Int. {1-40}", "Depto {1-9}0{1-4}", "Local {1-30}", "Piso {2-12}"),
        exterior="{1-3200}",
        adjectives=(
            ("Mexicano", "Mexicanos", "Mexicana", "Mexicanas"),
            ("Norteño", "Norteños", "Norteña", "Norteñas"),
            ("Tapatío", "Tapatíos", "Tapatía", "Tapatías"),
            ("Azteca", "Aztecas", "Azteca", "Aztecas"),
        ),
        places=("del Bajío", "del Pacífico", "del Golfo", "de Occidente", "del Sureste"),
        coop_suffix="SC de RL", association_form="AC", neighbourhood_share=1.0, eur_rate=20,
    ),
    "CO": CountrySpec(
        code="CO", name="Colombia", share=12, locale="es_CO", team="México y Colombia",
        cities=(
            City("Bogotá", "CO-DC", ("110{111-931}",), "601 ### ####", "",
                 ("Chapinero", "Usaquén", "Teusaquillo", "Chicó", "Cedritos"), weight=4),
            City("Medellín", "CO-ANT", ("050{001-036}",), "604 ### ####", "",
                 ("El Poblado", "Laureles", "Belén", "La Candelaria"), weight=3),
            City("Cali", "CO-VAC", ("760{001-046}",), "602 ### ####", "",
                 ("Granada", "San Fernando", "Ciudad Jardín"), weight=2),
            City("Barranquilla", "CO-ATL", ("080{001-020}",), "605 ### ####", "",
                 ("El Prado", "Alto Prado", "Riomar")),
            City("Cartagena", "CO-BOL", ("130{001-015}",), "605 ### ####", "",
                 ("Bocagrande", "Manga", "Getsemaní")),
            City("Bucaramanga", "CO-SAN", ("680{001-011}",), "607 ### ####", "",
                 ("Cabecera del Llano", "Sotomayor")),
            City("Pereira", "CO-RIS", ("660{001-009}",), "606 ### ####", "", ("Pinares", "Álamos")),
            City("Manizales", "CO-CAL", ("170{001-009}",), "606 ### ####", "", ("Chipre",)),
        ),
        mobiles=("3{00|01|04|05|10|11|12|13|14|15|16|17|18|20|21} ### ####", "+57 310 ### ####"),
        org_forms=(OrgForm("SAS", "SAS", 70), OrgForm("LTDA", "Ltda.", 15),
                   OrgForm("SA", "SA", 15)),
        org_tax_id=_co_org, person_tax_id=_co_person,
        interiors=("Apto {2-18}0{1-4}", "Of. {2-12}0{1-9}", "Local {1-120}", "Bodega {1-20}"),
        exterior="No. {2-120}-{10-99}",
        adjectives=(
            ("Andino", "Andinos", "Andina", "Andinas"),
            ("Antioqueño", "Antioqueños", "Antioqueña", "Antioqueñas"),
            ("Caribeño", "Caribeños", "Caribeña", "Caribeñas"),
            ("Cafetero", "Cafeteros", "Cafetera", "Cafeteras"),
        ),
        places=("del Caribe", "de la Sabana", "del Valle", "de los Andes", "del Magdalena"),
        neighbourhood_share=0.6, eur_rate=4500,
    ),
    "AR": CountrySpec(
        code="AR", name="Argentina", share=12, locale="es_AR", team="Cono Sur y Perú",
        cities=(
            City("Buenos Aires", "AR-C", ("C1{0-4}##@@@", "1{0-4}##"), "+54 11 #### ####",
                 "+54 9 11 #### ####",
                 ("Palermo", "Recoleta", "Belgrano", "Caballito", "San Telmo"), weight=5),
            City("La Plata", "AR-B", ("B19##@@@", "19##"), "+54 221 ### ####",
                 "+54 9 221 ### ####"),
            City("Mar del Plata", "AR-B", ("B76##@@@", "76##"), "+54 223 ### ####",
                 "+54 9 223 ### ####"),
            City("Córdoba", "AR-X", ("X50##@@@", "50##"), "+54 351 ### ####", "+54 9 351 ### ####",
                 ("Nueva Córdoba", "Cerro de las Rosas", "General Paz"), weight=2),
            City("Rosario", "AR-S", ("S20##@@@", "20##"), "+54 341 ### ####", "+54 9 341 ### ####",
                 ("Centro", "Fisherton", "Echesortu"), weight=2),
            City("Mendoza", "AR-M", ("M55##@@@", "55##"), "+54 261 ### ####", "+54 9 261 ### ####"),
            City("San Miguel de Tucumán", "AR-T", ("T40##@@@", "40##"), "+54 381 ### ####",
                 "+54 9 381 ### ####"),
            City("Salta", "AR-A", ("A44##@@@", "44##"), "+54 387 ### ####", "+54 9 387 ### ####"),
            City("Neuquén", "AR-Q", ("Q83##@@@", "83##"), "+54 299 ### ####", "+54 9 299 ### ####"),
        ),
        mobiles=("+54 9 11 #### ####",),
        org_forms=(OrgForm("SRL", "SRL", 50), OrgForm("SA", "SA", 35), OrgForm("SAS", "SAS", 15)),
        org_tax_id=_ar_org, person_tax_id=_ar_person,
        interiors=("Piso {1-15} Depto {A|B|C|D}", "PB {A|B}", "Of. {1-30}", "Local {1-12}"),
        exterior="{100-5800}",
        adjectives=(
            ("Patagónico", "Patagónicos", "Patagónica", "Patagónicas"),
            ("Pampeano", "Pampeanos", "Pampeana", "Pampeanas"),
            ("Cordobés", "Cordobeses", "Cordobesa", "Cordobesas"),
            ("Rioplatense", "Rioplatenses", "Rioplatense", "Rioplatenses"),
        ),
        places=("del Plata", "del Sur", "de Cuyo", "del Litoral", "del Norte"),
        coop_suffix="Ltda.", two_surnames=False, neighbourhood_share=0.3, eur_rate=1100,
    ),
    "CL": CountrySpec(
        code="CL", name="Chile", share=12, locale="es_CL", team="Cono Sur y Perú",
        cities=(
            City("Santiago", "CL-RM", ("83#####",), "+56 2 2### ####", weight=3),
            City("Providencia", "CL-RM", ("75#####",), "+56 2 2### ####", weight=2),
            City("Las Condes", "CL-RM", ("75#####",), "+56 2 2### ####", weight=2),
            City("Ñuñoa", "CL-RM", ("77#####",), "+56 2 2### ####"),
            City("Valparaíso", "CL-VS", ("23#####",), "+56 32 2## ####"),
            City("Viña del Mar", "CL-VS", ("25#####",), "+56 32 2## ####"),
            City("Concepción", "CL-BI", ("40#####",), "+56 41 2## ####"),
            City("Antofagasta", "CL-AN", ("12#####",), "+56 55 2## ####"),
            City("Temuco", "CL-AR", ("47#####",), "+56 45 2## ####"),
            City("La Serena", "CL-CO", ("17#####",), "+56 51 2## ####"),
            City("Puerto Montt", "CL-LL", ("54#####",), "+56 65 2## ####"),
            City("Rancagua", "CL-LI", ("28#####",), "+56 72 2## ####"),
            City("Talca", "CL-ML", ("34#####",), "+56 71 2## ####"),
            City("Punta Arenas", "CL-MA", ("62#####",), "+56 61 2## ####"),
        ),
        mobiles=("+56 9 #### ####", "9 #### ####"),
        org_forms=(
            OrgForm("SpA", "SpA", 55), OrgForm("LTDA", "Ltda.", 25), OrgForm("SA", "SA", 12),
            OrgForm("EIRL", "EIRL", 8),
        ),
        org_tax_id=_cl_org, person_tax_id=_cl_person,
        interiors=("Depto {2-18}0{1-9}", "Of. {2-20}0{1-9}", "Local {1-40}", "Casa {1-30}"),
        exterior="{100-9800}",
        adjectives=(
            ("Austral", "Australes", "Austral", "Australes"),
            ("Andino", "Andinos", "Andina", "Andinas"),
            ("Nortino", "Nortinos", "Nortina", "Nortinas"),
            ("Chileno", "Chilenos", "Chilena", "Chilenas"),
        ),
        places=("del Sur", "del Pacífico", "del Norte Grande", "de la Araucanía", "del Maule"),
        coop_suffix="Ltda.", neighbourhood_share=0.2, eur_rate=1000,
    ),
    "PE": CountrySpec(
        # Faker has no Peruvian locale: Colombian names are the closest, mixed with Andean surnames.
        code="PE", name="Perú", share=12, locale="es_CO", team="Cono Sur y Perú",
        cities=(
            City("Miraflores", "PE-LMA", ("150##",), "01 ### ####", locality="Lima", weight=2),
            City("San Isidro", "PE-LMA", ("150##",), "01 ### ####", locality="Lima", weight=2),
            City("Santiago de Surco", "PE-LMA", ("150##",), "01 ### ####", locality="Lima"),
            City("La Victoria", "PE-LMA", ("150##",), "01 ### ####", locality="Lima"),
            City("Lima", "PE-LMA", ("150##",), "01 ### ####", weight=2),
            City("Callao", "PE-CAL", ("07###",), "01 ### ####"),
            City("Arequipa", "PE-ARE", ("04###",), "054 ######", "",
                 ("Cayma", "Yanahuara", "Cercado"), weight=2),
            City("Trujillo", "PE-LAL", ("13###",), "044 ######", "", ("Centro",)),
            City("Chiclayo", "PE-LAM", ("14###",), "074 ######"),
            City("Cusco", "PE-CUS", ("08###",), "084 ######", "", ("Wanchaq",)),
            City("Piura", "PE-PIU", ("20###",), "073 ######"),
        ),
        mobiles=("9## ### ###", "+51 9## ### ###"),
        org_forms=(
            OrgForm("SAC", "SAC", 60), OrgForm("EIRL", "EIRL", 20), OrgForm("SRL", "SRL", 12),
            OrgForm("SA", "SA", 8),
        ),
        org_tax_id=_pe_org, person_tax_id=_pe_person,
        interiors=("Of. {2-15}0{1-9}", "Dpto. {1-18}0{1-4}", "Int. {1-9}", "Piso {2-12}"),
        exterior="{100-3500}",
        adjectives=(
            ("Andino", "Andinos", "Andina", "Andinas"),
            ("Limeño", "Limeños", "Limeña", "Limeñas"),
            ("Inca", "Incas", "Inca", "Incas"),
            ("Amazónico", "Amazónicos", "Amazónica", "Amazónicas"),
        ),
        places=("del Pacífico", "de los Andes", "del Sur", "del Norte Chico"),
        coop_suffix="Ltda.",
        streets=(
            "Av. {Javier Prado|José Larco|Benavides|La Marina|Arequipa|Grau|Angamos}",
            "Jr. {de la Unión|Ucayali|Huallaga|Lampa|Bolognesi|Junín}",
            "Calle {Los Pinos|Las Begonias|Los Laureles|Schell|Dos de Mayo|Colón}",
        ),
        surnames=("Quispe", "Mamani", "Huamán", "Condori", "Chávez", "Vásquez", "Ccori"),
        neighbourhood_share=0.2, eur_rate=4,
    ),
}
# fmt: on

# --- people and organisations ----------------------------------------------------------------

# Activities of an organisation and their grammatical gender: masc/fem, singular/plural.
ACTIVITIES: tuple[tuple[str, int], ...] = (
    ("Distribuciones", 3), ("Comercializadora", 2), ("Inversiones", 3), ("Servicios", 1),
    ("Transportes", 1), ("Importaciones", 3), ("Construcciones", 3), ("Talleres", 1),
    ("Suministros", 1), ("Ferretería", 2), ("Alimentos", 1), ("Muebles", 1), ("Grupo", 0),
    ("Ingeniería", 2), ("Consultores", 1), ("Logística", 2), ("Laboratorios", 1),
    ("Textiles", 1), ("Instalaciones", 3), ("Exportadora", 2), ("Agroindustrias", 3),
    ("Papelería", 2), ("Climatización", 2), ("Asesores", 1), ("Recambios", 1),
)  # fmt: skip
BRANDS = (
    "El Puerto", "La Esquina", "Nova", "del Parque", "Central", "Altamira", "Costa Azul",
    "Mirador", "La Estación", "Los Álamos", "El Roble", "Plaza", "Horizonte",
)  # fmt: skip
TRADES = (
    "Fontanería", "Electricidad", "Carpintería", "Asesoría Fiscal", "Fisioterapia",
    "Diseño Gráfico", "Estudio Jurídico", "Reformas", "Fotografía", "Traducciones",
)  # fmt: skip
COOP_NAMES = (
    "Cooperativa Agrícola San Isidro", "Cooperativa de Transportes {place}",
    "Cooperativa Vitivinícola {place}", "Cooperativa de Consumo {city}",
)  # fmt: skip
ASSOCIATION_NAMES = (
    "Asociación de Comerciantes de {city}", "Fundación {surname}",
    "Asociación Cultural {brand}", "Club Deportivo {city}",
)  # fmt: skip
CONTACT_ROLES: tuple[tuple[str, str], ...] = (
    ("Gerente de compras", "Gerente de compras"),
    ("Director general", "Directora general"),
    ("Administración", "Administración"),
    ("Responsable de contabilidad", "Responsable de contabilidad"),
    ("Jefe de almacén", "Jefa de almacén"),
    ("Director financiero", "Directora financiera"),
    ("Responsable de calidad", "Responsable de calidad"),
    ("Asistente de dirección", "Asistente de dirección"),
)
NOTES = (
    "Llamar por la tarde.",
    "Prefiere contacto por correo.",
    "Pide presupuesto antes de cada pedido.",
    "Cierra la segunda quincena de agosto.",
    "Las facturas, siempre en PDF a la dirección de facturación.",
    "Interesado en la nueva línea de productos.",
    "Visitar en la próxima feria.",
    "Pregunta por descuentos por volumen.",
    "Hablar con el responsable de compras, no con recepción.",
    "Recibe mercancía solo por las mañanas.",
)
STATUS_REASONS = (
    "Impago de facturas",
    "Facturas vencidas pendientes de cobro",
    "Límite de crédito superado",
    "Datos fiscales en revisión",
)
LOSS_DETAILS: dict[str, tuple[str, ...]] = {
    LossReason.COMPETITOR: ("Mejor precio de la competencia", "Plazos de entrega más cortos"),
    LossReason.CEASED: ("Cese de actividad", "Cierre del local"),
    LossReason.NON_PAYMENT: ("Deuda pendiente sin resolver",),
    LossReason.UNUSED: ("Dejó de usar el producto",),
    LossReason.NOT_INTERESTED: ("Sin presupuesto este año", "No responde a las llamadas"),
    LossReason.OTHER: ("Cambio de dirección en la empresa",),
}

STAGE_SHARES = {
    Stage.LEAD.value: 20,
    Stage.PROSPECT.value: 20,
    Stage.CLIENT.value: 45,
    Stage.FORMER.value: 8,
    Stage.LOST.value: 7,
}
# The chance that a customer at a stage has complete fiscal data (clients always do).
COMPLETE_SHARE = {"lead": 0.3, "prospect": 0.7, "client": 1.0, "former": 1.0, "lost": 0.5}
LOSS_WEIGHTS = {
    Stage.LOST.value: {"competitor": 30, "not_interested": 35, "other": 10, "unused": 10,
                       "ceased": 10, "non_payment": 5},
    Stage.FORMER.value: {"competitor": 30, "unused": 20, "ceased": 20, "non_payment": 20,
                         "other": 10},
}  # fmt: skip
SIZE_WEIGHTS = {"micro": 45, "small": 33, "medium": 16, "large": 6}
# Annual revenue by size, in thousands of euros.
REVENUE_RANGES = {"micro": (60, 1_800), "small": (1_500, 10_000), "medium": (9_000, 48_000),
                  "large": (45_000, 600_000)}  # fmt: skip
PAYMENT_WEIGHTS = {
    "ES": {"transfer": 45, "direct_debit": 30, "promissory_note": 10, "card": 15},
    "LATAM": {"transfer": 60, "card": 20, "cash": 10, "cheque": 10},
}
GROUP_WEIGHTS = {"Minorista": 40, "Mayorista": 30, "Distribuidor": 15, "VIP": 15}

# --- users and lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    """An employee of the demo company."""

    username: str
    first_name: str
    last_name: str
    role: str
    team: str = ""


USERS = (
    DemoUser("admin", "Elena", "Navarro Ortiz", Role.ADMIN),
    DemoUser("gerente", "Javier", "Morales Ruiz", Role.MANAGER),
    DemoUser("lucia", "Lucía", "Fernández Gil", Role.SALESPERSON, "Iberia"),
    DemoUser("mateo", "Mateo", "García Serrano", Role.SALESPERSON, "Iberia"),
    DemoUser("valentina", "Valentina", "Hernández Luna", Role.SALESPERSON, "México y Colombia"),
    DemoUser("diego", "Diego", "Ramírez Ospina", Role.SALESPERSON, "México y Colombia"),
    DemoUser("camila", "Camila", "Rojas Medina", Role.SALESPERSON, "Cono Sur y Perú"),
    DemoUser("santiago", "Santiago", "Quispe Alarcón", Role.SALESPERSON, "Cono Sur y Perú"),
)
MANAGER = "gerente"


@dataclass(frozen=True)
class DemoGroup:
    """A customer group of the demo and its commercial rules."""

    name: str
    discount: str
    payment_terms_days: int | None
    payment_method: str = ""


GROUPS = (
    DemoGroup("Mayorista", "10", 60, PaymentMethod.TRANSFER),
    DemoGroup("Minorista", "0", 30),
    DemoGroup("Distribuidor", "15", 90, PaymentMethod.TRANSFER),
    DemoGroup("VIP", "20", 45),
)
TAGS = (
    "feria-2026", "newsletter", "sector-público", "exportador", "pago-puntual",
    "webinar-marzo", "black-friday",
)  # fmt: skip

# Seeded by migration 0002; a list an administrator emptied just leaves the field blank.
LEAD_SOURCES = (
    "Web", "Recomendación", "Feria o evento", "Llamada en frío", "Redes sociales",
    "Publicidad", "Cliente existente", "Otro",
)  # fmt: skip
SECTORS = (
    "Agricultura y alimentación", "Industria", "Construcción", "Comercio",
    "Hostelería y turismo", "Transporte y logística", "Tecnología", "Servicios profesionales",
    "Salud", "Educación", "Otro",
)  # fmt: skip

# --- planning customers ----------------------------------------------------------------------


@dataclass
class CustomerPlan:
    """The data of one demo customer, with references (codes, names) instead of rows."""

    country: str
    data: dict[str, Any]
    created_minutes_ago: int
    reviewed_minutes_ago: int


@dataclass
class Identity:
    """Who the customer is: names, the holder of its tax id, its e-mail domain."""

    kind: str
    holder: Holder
    fields: dict[str, Any]
    domain: str
    first_name: str
    surname: str
    female: bool
    legal_form: str = ""  # the code, also when the tax id is what implies it


class Planner:
    """Generates customer plans for one seed; every random choice flows from that seed."""

    def __init__(self, seed: int, taken: set[tuple[str, str]] | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.taken = set(taken or ())
        self.fakers: dict[str, Any] = {}
        for position, code in enumerate(COUNTRIES):
            fake = Faker(COUNTRIES[code].locale)
            fake.seed_instance(seed * 10 + position)
            self.fakers[code] = fake

    # -- names --

    def surname(self, spec: CountrySpec) -> str:
        """One surname as people of the country have them."""
        if spec.surnames and self.rng.random() < 0.35:
            return self.rng.choice(spec.surnames)
        return str(self.fakers[spec.code].last_name())

    def surnames(self, spec: CountrySpec) -> tuple[str, ...]:
        """Both surnames where people have two, else one."""
        if spec.two_surnames:
            return (self.surname(spec), self.surname(spec))
        return (self.surname(spec),)

    def first_name(self, spec: CountrySpec, female: bool) -> str:
        """A given name of the country."""
        fake = self.fakers[spec.code]
        return str(fake.first_name_female() if female else fake.first_name_male())

    def company_name(self, spec: CountrySpec, city: City) -> tuple[str, str]:
        """A company's name without its legal form, and the activity word it was built on."""
        activity, gender = self.rng.choice(ACTIVITIES)
        return self._company_name(spec, city, activity, gender), activity

    def _company_name(self, spec: CountrySpec, city: City, activity: str, gender: int) -> str:
        rng = self.rng
        pattern = pick(rng, {"surname": 30, "sons": 6, "adjective": 15, "place": 15,
                             "city": 8, "partners": 10, "brothers": 6})  # fmt: skip
        if pattern == "surname":
            return f"{activity} {self.surname(spec)}"
        if pattern == "sons":
            return f"{activity} {self.surname(spec)} e Hijos"
        if pattern == "adjective":
            return f"{activity} {rng.choice(spec.adjectives)[gender]}"
        if pattern == "place":
            return f"{activity} {rng.choice(spec.places)}"
        if pattern == "city":
            return f"{activity} {city.locality or city.name}"
        if pattern == "partners":
            return f"{self.surname(spec)} y {self.surname(spec)}"
        return f"{self.surname(spec)} Hermanos"

    def special_name(self, templates: Sequence[str], spec: CountrySpec, city: City) -> str:
        """The name of a cooperative or association, from one of ``templates``."""
        return self.rng.choice(templates).format(
            place=self.rng.choice(spec.places),
            city=city.locality or city.name,
            surname=f"{self.surname(spec)} {self.surname(spec)}",
            brand=self.rng.choice(BRANDS),
        )

    # -- identities --

    def organisation(self, spec: CountrySpec, city: City) -> Identity:
        """A company, cooperative or association of the country, and its first contact's name."""
        rng = self.rng
        fiscal_type = pick(
            rng, {"sociedad_mercantil": 88, "cooperativa": 5, "asociacion_fundacion": 7}
        )
        legal_form, cif_letter, trade_name = "", "", ""
        if fiscal_type == "cooperativa":
            name = self.special_name(COOP_NAMES, spec, city)
            legal_name = f"{name} {spec.coop_suffix}".strip()
            cif_letter = "F"
        elif fiscal_type == "asociacion_fundacion":
            name = self.special_name(ASSOCIATION_NAMES, spec, city)
            legal_form = spec.association_form
            legal_name = f"{name} {legal_form}".strip()
            cif_letter = "G"
        else:
            form = rng.choices(spec.org_forms, weights=[f.weight for f in spec.org_forms])[0]
            name, activity = self.company_name(spec, city)
            legal_name = f"{name} {form.suffix}"
            legal_form, cif_letter = form.code, form.cif_letter
            if rng.random() < 0.35:
                trade_name = f"{activity} {rng.choice(BRANDS)}"
        fields: dict[str, Any] = {"kind": ORG, "legal_name": legal_name, "fiscal_type": fiscal_type}
        if legal_form and not spec.legal_form_from_tax_id:
            fields["legal_form"] = legal_form
        if trade_name:
            fields["trade_name"] = trade_name
        province = city.postal[0][:2]
        holder = Holder(ORG, name=name, province=province, cif_letter=cif_letter or "B")
        contact_female = rng.random() < 0.5
        return Identity(
            kind=ORG,
            holder=holder,
            fields=fields,
            domain=f"{slugify(name)[:40].strip('-')}.example",
            first_name=self.first_name(spec, contact_female),
            surname=self.surname(spec),
            female=contact_female,
            legal_form=legal_form,
        )

    def person(self, spec: CountrySpec, city: City) -> Identity:
        """An individual: a private customer or a self-employed professional."""
        rng = self.rng
        female = rng.random() < 0.5
        first = self.first_name(spec, female)
        surnames = self.surnames(spec)
        fiscal_type = "autonomo" if rng.random() < 0.35 else "particular"
        fields: dict[str, Any] = {
            "kind": PERSON,
            "first_name": first,
            "last_name": " ".join(surnames),
            "fiscal_type": fiscal_type,
        }
        if fiscal_type == "autonomo" and rng.random() < 0.5:
            fields["trade_name"] = f"{rng.choice(TRADES)} {surnames[0]}"
        holder = Holder(PERSON, first_name=first, surnames=surnames, female=female)
        domain = rng.choice(("example.com", "example.net", "example.org"))
        return Identity(PERSON, holder, fields, domain, first, surnames[0], female)

    # -- channels, addresses, contacts --

    def phone(self, template: str, country: str) -> str:
        """A number written as in the template that phonenumbers accepts for the country."""
        for _attempt in range(100):
            text = fill(template, self.rng)
            if phonenumbers.is_valid_number(phonenumbers.parse(text, country)):
                return text
        raise RuntimeError(f"No valid phone number from {template!r} for {country}.")

    def mobile(self, spec: CountrySpec, city: City) -> str:
        """A valid mobile number of the country (of the city's area where that matters)."""
        template = city.mobile or self.rng.choice(spec.mobiles)
        return self.phone(template, spec.code)

    def email_local(self, first: str, surname: str) -> str:
        """The part before the @ of a person's e-mail: 'maria.lopez' or 'maria.lopez72'."""
        first_word = slugify(first).split("-")[0]
        local = f"{first_word}.{slugify(surname)}"
        if self.rng.random() < 0.3:
            local += str(self.rng.randint(1, 99))
        return local

    def channels(self, spec: CountrySpec, city: City, who: Identity) -> list[dict[str, Any]]:
        """Phones, e-mails, website and social profile of a customer with complete data."""
        rng = self.rng
        out: list[dict[str, Any]] = []
        if who.kind == ORG:
            if rng.random() < 0.7:
                out.append({"type": "phone", "value": self.phone(city.landline, spec.code)})
            else:
                out.append({"type": "phone", "value": self.mobile(spec, city)})
            local = rng.choice(("info", "contacto", "administracion", "comercial", "hola"))
            out.append({"type": "email", "value": f"{local}@{who.domain}", "label": "general"})
            if rng.random() < 0.25:
                out.append(
                    {"type": "email", "value": f"facturacion@{who.domain}", "label": "billing"}
                )
            if rng.random() < 0.4:
                out.append({"type": "website", "value": f"https://www.{who.domain}"})
            if rng.random() < 0.1:
                out.append({"type": "social", "value": "@" + who.domain.split(".")[0][:28]})
        else:
            out.append({"type": "phone", "value": self.mobile(spec, city)})
            if rng.random() < 0.8:
                local = self.email_local(who.first_name, who.surname)
                out.append({"type": "email", "value": f"{local}@{who.domain}"})
        out[0]["is_primary"] = True
        return out

    def one_channel(self, spec: CountrySpec, city: City, who: Identity) -> list[dict[str, Any]]:
        """The single phone or e-mail a quickly entered lead comes with."""
        if self.rng.random() < 0.5:
            return [{"type": "phone", "value": self.mobile(spec, city), "is_primary": True}]
        local = (
            self.rng.choice(("info", "contacto"))
            if who.kind == ORG
            else self.email_local(who.first_name, who.surname)
        )
        return [{"type": "email", "value": f"{local}@{who.domain}", "is_primary": True}]

    def street(self, spec: CountrySpec) -> str:
        """A street name as written in the country."""
        if spec.streets:
            return fill(self.rng.choice(spec.streets), self.rng)
        return str(self.fakers[spec.code].street_name())

    def address(self, spec: CountrySpec, city: City, kind: str) -> dict[str, Any]:
        """A complete address in the city, postal code and region agreeing."""
        rng = self.rng
        postal = fill(rng.choice(city.postal), rng)
        region = city.region or region_for_postal_code(postal, spec.code) or ""
        address = {
            "type": kind,
            "street": self.street(spec),
            "exterior_number": fill(spec.exterior, rng),
            "interior_number": fill(rng.choice(spec.interiors), rng) if rng.random() < 0.4 else "",
            "neighbourhood": "",
            "municipality": city.name,
            "locality": city.locality,
            "postal_code": postal,
            "region": region,
            "country": spec.code,
        }
        if city.neighbourhoods and rng.random() < spec.neighbourhood_share:
            address["neighbourhood"] = rng.choice(city.neighbourhoods)
        if spec.code == "ES" and rng.random() < 0.03:
            address["exterior_number"] = "s/n"
        return address

    def contacts(self, spec: CountrySpec, city: City, who: Identity) -> list[dict[str, Any]]:
        """Zero to three people at an organisation, the first one the main contact."""
        rng = self.rng
        count = rng.choices((0, 1, 2, 3), weights=(25, 40, 25, 10))[0]
        out = []
        for position in range(count):
            female = who.female if position == 0 else rng.random() < 0.5
            first = who.first_name if position == 0 else self.first_name(spec, female)
            surnames = [who.surname if position == 0 else self.surname(spec)]
            if spec.two_surnames:
                surnames.append(self.surname(spec))
            contact: dict[str, Any] = {
                "first_name": first,
                "last_name": " ".join(surnames),
                "role": rng.choice(CONTACT_ROLES)[1 if female else 0],
                "email": f"{self.email_local(first, surnames[0])}@{who.domain}",
                "mobile": self.mobile(spec, city) if rng.random() < 0.8 else "",
                "phone": self.phone(city.landline, spec.code) if rng.random() < 0.4 else "",
                "is_primary": position == 0,
            }
            if rng.random() < 0.3:
                contact["birthday"] = date(
                    rng.randint(1958, 1999), rng.randint(1, 12), rng.randint(1, 28)
                )
            out.append(contact)
        return out

    # -- commercial data --

    def commercial(self, spec: CountrySpec, who: Identity, stage: str) -> dict[str, Any]:
        """Group, payment terms, sector, size and amounts."""
        rng = self.rng
        out: dict[str, Any] = {}
        if stage in ("client", "former") and rng.random() < 0.75:
            groups = GROUP_WEIGHTS if who.kind == ORG else {"Minorista": 80, "VIP": 20}
            out["group"] = pick(rng, groups)
        if stage in ("client", "former", "prospect"):
            region = "ES" if spec.code == "ES" else "LATAM"
            out["payment_method"] = pick(rng, PAYMENT_WEIGHTS[region])
            if "group" not in out:
                out["payment_terms_days"] = rng.choice((0, 15, 30, 30, 60, 90))
        is_business = who.kind == ORG or who.fields.get("fiscal_type") == "autonomo"
        if is_business:
            out["sector"] = rng.choice(SECTORS)
            size = pick(rng, SIZE_WEIGHTS) if who.kind == ORG else "micro"
            low, high = REVENUE_RANGES[size]
            out["size"] = size
            if rng.random() < 0.7:
                thousands = rng.randint(low, high) * spec.eur_rate
                out["annual_revenue"] = Decimal(thousands * 1000)
        if stage in ("lead", "prospect") and rng.random() < 0.5:
            out["purchase_potential"] = Decimal(rng.randint(5, 250) * 1000 * spec.eur_rate)
        return out

    def situation(self, stage: str) -> dict[str, Any]:
        """Status and loss reason, as they go with the stage."""
        rng = self.rng
        out: dict[str, Any] = {"stage": stage, "status": Status.ACTIVE.value}
        if stage == "client" and rng.random() < 0.045:
            out.update(status=Status.SUSPENDED.value, status_reason=rng.choice(STATUS_REASONS))
        elif rng.random() < {"former": 0.6, "lost": 0.4}.get(stage, 0.03):
            out["status"] = Status.INACTIVE.value
        if stage in LOSS_WEIGHTS:
            reason = pick(rng, LOSS_WEIGHTS[stage])
            out["loss_reason"] = reason
            if rng.random() < 0.6:
                out["loss_detail"] = rng.choice(LOSS_DETAILS[reason])
        return out

    def extras(self, spec: CountrySpec) -> dict[str, Any]:
        """Owner, source, follow-up, tags and notes."""
        rng = self.rng
        team = [u.username for u in USERS if u.team == spec.team]
        out: dict[str, Any] = {
            "owner": MANAGER if rng.random() < 0.1 else rng.choice(team),
            "lead_source": rng.choice(LEAD_SOURCES),
            "follow_up": rng.random() < 0.15,
            "language": "es",
        }
        if rng.random() < 0.4:
            out["tags"] = rng.sample(TAGS, rng.choice((1, 1, 2)))
        if rng.random() < 0.3:
            out["notes"] = rng.choice(NOTES)
        return out

    # -- one customer --

    def plan(self, country: str, stage: str) -> CustomerPlan:
        """The data of one customer of a country at a stage."""
        rng = self.rng
        spec = COUNTRIES[country]
        city = rng.choices(spec.cities, weights=[c.weight for c in spec.cities])[0]
        who = self.organisation(spec, city) if rng.random() < 0.7 else self.person(spec, city)
        data: dict[str, Any] = {**who.fields, "tax_country": country}
        complete = rng.random() < COMPLETE_SHARE[stage]
        if complete:
            data["tax_id"] = valid_tax_id(rng, spec, who.holder, self.taken)
            data["addresses"] = [self.address(spec, city, "fiscal")]
            if who.kind == ORG and rng.random() < 0.2:
                other = rng.choice(spec.cities)
                data["addresses"].append(self.address(spec, other, "shipping"))
            data["channels"] = self.channels(spec, city, who)
            if who.kind == ORG:
                data["contacts"] = self.contacts(spec, city, who)
        else:
            data["channels"] = self.one_channel(spec, city, who)
            if who.legal_form:  # no CIF to imply it: say it
                data["legal_form"] = who.legal_form
            if who.kind == ORG and rng.random() < 0.3:
                del data["fiscal_type"]  # not asked yet
        data.update(self.situation(stage))
        data.update(self.commercial(spec, who, stage))
        data.update(self.extras(spec))
        created, reviewed = self.ages()
        return CustomerPlan(country, data, created, reviewed)

    def ages(self) -> tuple[int, int]:
        """Minutes since creation (up to two years) and since the last review."""
        rng = self.rng
        day = 24 * 60
        created = rng.randint(0, 730 * day)
        if created > 200 * day and rng.random() < 0.3:  # overdue for review (about 20%)
            reviewed = rng.randint(190 * day, created)
        else:
            reviewed = rng.randint(0, min(created, 150 * day))
        return created, reviewed


def generate_customers(
    n: int, seed: int, *, taken: set[tuple[str, str]] | None = None
) -> list[CustomerPlan]:
    """Plan ``n`` customers without saving them: the same seed gives the same plans."""
    planner = Planner(seed, taken)
    countries = apportion(n, {code: spec.share for code, spec in COUNTRIES.items()}, planner.rng)
    stages = apportion(n, STAGE_SHARES, planner.rng)
    return [planner.plan(country, stage) for country, stage in zip(countries, stages, strict=True)]


# --- saving ------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What load_demo created."""

    customers: int = 0
    by_country: dict[str, Counter[str]] = field(default_factory=dict)
    users_created: list[str] = field(default_factory=list)

    def count(self, country: str, stage: str) -> int:
        """Customers created in a country at a stage."""
        return self.by_country.get(country, Counter())[stage]

    def stage_total(self, stage: str) -> int:
        """Customers created at a stage, all countries together."""
        return sum(counts[stage] for counts in self.by_country.values())


def ensure_users() -> tuple[dict[str, User], list[str]]:
    """The demo's teams and users (created only when missing) and who was created."""
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in {u.team for u in USERS}}
    users: dict[str, User] = {}
    created: list[str] = []
    for spec in USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User.objects.create_user(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@cartera.example",
                role=spec.role,
                team=teams.get(spec.team),
            )
            user.set_password(ADMIN_PASSWORD if spec.role == Role.ADMIN else DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(spec.username)
        users[spec.username] = user
    return users, created


def ensure_lists() -> None:
    """The demo's customer groups and tags."""
    for group in GROUPS:
        CustomerGroup.objects.get_or_create(
            name=group.name,
            defaults={
                "discount_percent": Decimal(group.discount),
                "payment_terms_days": group.payment_terms_days,
                "payment_method": group.payment_method,
            },
        )
    for name in TAGS:
        Tag.objects.get_or_create(name=name)


@dataclass
class References:
    """Rows the plans refer to by code or name."""

    users: dict[str, User]
    fiscal_types: dict[str, FiscalType]
    legal_forms: dict[tuple[str, str], LegalForm]
    groups: dict[str, CustomerGroup]
    lead_sources: dict[str, LeadSource]
    sectors: dict[str, Sector]

    @classmethod
    def load(cls, users: dict[str, User]) -> References:
        """Read the active rows of every list a plan may name."""
        return cls(
            users=users,
            fiscal_types={f.code: f for f in FiscalType.objects.filter(is_active=True)},
            legal_forms={(f.country, f.code): f for f in LegalForm.objects.filter(is_active=True)},
            groups={g.name: g for g in CustomerGroup.objects.all()},
            lead_sources={s.name: s for s in LeadSource.objects.filter(is_active=True)},
            sectors={s.name: s for s in Sector.objects.filter(is_active=True)},
        )

    def resolve(self, plan: CustomerPlan) -> tuple[dict[str, Any], User]:
        """The plan's data with rows instead of references, and who creates the customer."""
        data = dict(plan.data)
        owner = self.users[data["owner"]]
        if not owner.is_active or owner.role == Role.READ_ONLY:
            owner = self.users["admin"]
        data["owner"] = owner
        lookups: dict[str, Callable[[Any], Any]] = {
            "fiscal_type": self.fiscal_types.get,
            "legal_form": lambda code: self.legal_forms.get((plan.country, code)),
            "group": self.groups.get,
            "lead_source": self.lead_sources.get,
            "sector": self.sectors.get,
        }
        for name, lookup in lookups.items():
            if name in data:
                data[name] = lookup(data[name])
        return data, owner


def _backdate(pk: int, plan: CustomerPlan) -> None:
    """Spread creation over two years and leave some data overdue for review."""
    now = timezone.now()
    created = now - timedelta(minutes=plan.created_minutes_ago)
    reviewed = now - timedelta(minutes=plan.reviewed_minutes_ago)
    Customer.objects.filter(pk=pk).update(
        created_at=created, reviewed_at=reviewed, updated_at=reviewed
    )


def _say(stdout: Writer | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def load_demo(
    *, customers: int = 200, seed: int = 2026, stdout: Writer | None = None
) -> DemoSummary:
    """Create the demo's users, lists and customers in one transaction."""
    summary = DemoSummary()
    with transaction.atomic():
        users, summary.users_created = ensure_users()
        ensure_lists()
        taken = set(Customer.objects.exclude(tax_id="").values_list("tax_country", "tax_id"))
        plans = generate_customers(customers, seed, taken=taken)
        refs = References.load(users)
        _say(stdout, f"Creando {len(plans)} clientes de demostración…")
        for plan in plans:
            data, owner = refs.resolve(plan)
            customer = services.create_customer(data=data, by=owner)
            _backdate(customer.pk, plan)
            summary.by_country.setdefault(plan.country, Counter())[data["stage"]] += 1
            summary.customers += 1
    return summary
