"""Planning demo customers without the database: the same seed gives the same plans."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import phonenumbers
from django.utils.text import slugify
from faker import Faker

from cartera.core.postal import region_for_postal_code
from cartera.customers.demo.company import LEAD_SOURCES, MANAGER, SECTORS, TAGS, USERS
from cartera.customers.demo.countries import COUNTRIES, City, CountrySpec, fill
from cartera.customers.demo.tax_ids import ORG, PERSON, Holder, valid_tax_id
from cartera.customers.demo.vocabulary import (
    ACTIVITIES,
    ASSOCIATION_NAMES,
    BRANDS,
    CONTACT_ROLES,
    COOP_NAMES,
    LOSS_DETAILS,
    NOTES,
    STATUS_REASONS,
    TRADES,
)
from cartera.customers.models import Stage, Status

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
            if reason == "competitor" or rng.random() < 0.6:
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
