"""The six countries of the demo: cities, phone numbers, legal forms and how names are made.

Postal codes, phone numbers, interiors and streets are templates for ``fill``.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from cartera.customers.demo.tax_ids import (
    Holder,
    ar_org,
    ar_person,
    cl_org,
    cl_person,
    co_org,
    co_person,
    es_org,
    es_person,
    mx_org,
    mx_person,
    pe_org,
    pe_person,
)

_TOKEN = re.compile(r"\{([^{}]+)\}|#|@")

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
        org_tax_id=es_org, person_tax_id=es_person,
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
        org_tax_id=mx_org, person_tax_id=mx_person,
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
        org_tax_id=co_org, person_tax_id=co_person,
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
        org_tax_id=ar_org, person_tax_id=ar_person,
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
        org_tax_id=cl_org, person_tax_id=cl_person,
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
        org_tax_id=pe_org, person_tax_id=pe_person,
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
