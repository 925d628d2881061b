"""Bulk demo data: a million valid customers in minutes, for benchmarks and big demos.

``bulk_load`` is the fast path of ``cartera demo`` for large numbers. ``BulkPlanner`` draws
customers from the demo's country tables (compiled once by the helpers of ``drawing``),
vocabulary and tax id builders with one seeded ``random.Random`` and yields them one at a time,
so memory does not grow with their number; ``bulk_load`` writes them through the writers of
``stores``, with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), one transaction per batch,
instead of one ``services.create_customer`` call per customer.

Skipping the services must not mean skipping the rules: every value is produced in the form
``validate_customer`` stores (compact tax ids valid for their country and unique, E.164 phones
that phonenumbers accepts, regions that agree with the postal code, invoiceable clients) and
``search_text`` exactly as ``Customer.build_search_text`` computes it. Codes come from the
customer series, which ends past the loaded range.

A million customers take about two minutes on two cores: a forked process generates while this
one writes, and the non-unique indexes (SQLite: also the search index; PostgreSQL: also the
foreign keys) are dropped during the load and built or checked once at the end, which is several
times faster than keeping them in step row by row. The load is meant for a database nobody else
is writing to.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from queue import Empty
from typing import Any, NamedTuple, TypeVar

from django.db import connection as default_connection
from django.db import connections, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext

from cartera.core.models import Company
from cartera.core.postal import region_for_postal_code
from cartera.core.text import fold, squash
from cartera.customers.demo import DemoSummary, Writer, ensure_users
from cartera.customers.demo import planner as shares
from cartera.customers.demo import vocabulary as words
from cartera.customers.demo.company import LEAD_SOURCES, MANAGER, SECTORS, TAGS, USERS
from cartera.customers.demo.countries import COUNTRIES, City, CountrySpec
from cartera.customers.demo.drawing import Choice, Kit, Place, References, WordCache
from cartera.customers.demo.stores import PostgresStore, Row, SQLiteStore
from cartera.customers.demo.tax_ids import ORG, PERSON, Holder
from cartera.customers.models import Customer
from cartera.customers.models.customer import sort_name_of
from cartera.customers.services import take_customer_codes

T = TypeVar("T")

# Every customer gets a phone, an e-mail and a fiscal address; about one in ten (organisations
# only) gets one or two contacts, and some lost or former customers are archived.
CONTACT_SHARE = 0.14
ARCHIVED_SHARE = 0.1
INACTIVE_SHARE = {"former": 0.6, "lost": 0.4, "client": 0.03, "lead": 0.03, "prospect": 0.03}
NAME_PATTERNS = {"surname": 30, "sons": 6, "adjective": 15, "place": 15, "city": 8,
                 "partners": 10, "brothers": 6}  # fmt: skip
ORG_TYPES = {"sociedad_mercantil": 88, "cooperativa": 5, "asociacion_fundacion": 7}
CIF_LEGAL_FORM = {"A": "SA", "B": "SL", "F": "COOP", "G": "ASOC"}  # the CIF letter says it
TAX_ID_TYPES = {"MX": "mx_rfc", "PE": "pe_ruc", "AR": "ar_cuit", "CL": "cl_rut", "CO": "co_nit"}
PROGRESS_EVERY = 100_000
PROCESS_FROM = 20_000  # customers from which a second process generates them


class Planned(NamedTuple):
    """One generated customer: its row without id, code and search text, and its other rows."""

    values: Row
    search: str  # the search text after the code
    channels: list[Row]
    address: Row
    contacts: list[Row]
    tags: tuple[int, ...]
    country: str
    stage: str


class BulkPlanner:
    """Customers of the six demo countries for one seed, streamed, at microseconds each."""

    def __init__(self, seed: int, refs: References, *, taken: set[int] | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.refs = refs
        self.taken = taken if taken is not None else set()  # hashes of (country, tax id)
        self.fold = WordCache(fold, " ", alnum=False)
        self.slug = WordCache(slugify, "-", alnum=True)
        self.regions: dict[str, str] = {}
        manager = refs.users[MANAGER]
        self.kits: dict[str, Kit] = {}
        for position, (code, spec) in enumerate(COUNTRIES.items()):
            team = tuple(refs.users[u.username] for u in USERS if u.team == spec.team)
            # One customer in ten belongs to the sales manager, the rest to the country's team.
            owners = team * 9 + (manager,) * (len(team) or 1)
            self.kits[code] = Kit(spec, seed * 10 + position, owners)
        self.countries = Choice.of({code: spec.share for code, spec in COUNTRIES.items()})
        self.stages = Choice.of(shares.STAGE_SHARES)
        self.name_patterns = Choice.of(NAME_PATTERNS)
        self.org_types = Choice.of(ORG_TYPES)
        self.sizes = Choice.of(shares.SIZE_WEIGHTS)
        people_groups = {"Minorista": 80, "VIP": 20}  # as the planner gives them to persons
        self.groups = {ORG: Choice.of(shares.GROUP_WEIGHTS), PERSON: Choice.of(people_groups)}
        self.payments = {region: Choice.of(w) for region, w in shares.PAYMENT_WEIGHTS.items()}
        self.losses = {stage: Choice.of(weights) for stage, weights in shares.LOSS_WEIGHTS.items()}
        # Naive UTC: what Django writes to SQLite, and what PostgreSQL reads in a UTC session.
        self.now = timezone.now().replace(tzinfo=None)

    def customers(self, count: int) -> Iterator[Planned]:
        """``count`` customers, countries and stages in the demo's proportions."""
        rnd = self.rng.random
        for _ in range(count):
            yield self.customer(self.countries.pick(rnd), self.stages.pick(rnd))

    def one(self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]

    def surname(self, kit: Kit) -> str:
        """Faker's surnames of the country, mixed with the country's own list (Peru)."""
        if kit.spec.surnames and self.rng.random() < 0.35:
            return self.one(kit.spec.surnames)
        return self.one(kit.surnames)

    def email_local(self, first: str, surname: str) -> str:
        """'maria.lopez' or 'maria.lopez72', as the planner writes them."""
        local = f"{self.slug(first).split('-')[0]}.{self.slug(surname)}"
        return local + str(self.rng.randint(1, 99)) if self.rng.random() < 0.3 else local

    def company(self, kit: Kit, city: City) -> tuple[str, str, str, str, str, str]:
        """(fiscal type, name, legal name, trade name, legal form, CIF letter) of a company."""
        spec, one, fiscal_type = kit.spec, self.one, self.org_types.pick(self.rng.random)
        if fiscal_type != "sociedad_mercantil":
            coop = fiscal_type == "cooperativa"
            name = one(words.COOP_NAMES if coop else words.ASSOCIATION_NAMES).format(
                place=one(spec.places),
                city=city.locality or city.name,
                surname=f"{self.surname(kit)} {self.surname(kit)}",
                brand=one(words.BRANDS),
            )
            form = "" if coop else spec.association_form
            suffix = spec.coop_suffix if coop else form
            return fiscal_type, name, f"{name} {suffix}".strip(), "", form, "F" if coop else "G"
        org_form = kit.org_forms.pick(self.rng.random)
        activity, gender = one(words.ACTIVITIES)
        pattern = self.name_patterns.pick(self.rng.random)
        if pattern in ("surname", "sons"):
            name = f"{activity} {self.surname(kit)}" + (" e Hijos" if pattern == "sons" else "")
        elif pattern == "adjective":
            name = f"{activity} {one(spec.adjectives)[gender]}"
        elif pattern == "place":
            name = f"{activity} {one(spec.places)}"
        elif pattern == "city":
            name = f"{activity} {city.locality or city.name}"
        elif pattern == "partners":
            name = f"{self.surname(kit)} y {self.surname(kit)}"
        else:
            name = f"{self.surname(kit)} Hermanos"
        trade = f"{activity} {one(words.BRANDS)}" if self.rng.random() < 0.35 else ""
        legal_name = f"{name} {org_form.suffix}"
        return fiscal_type, name, legal_name, trade, org_form.code, org_form.cif_letter or "B"

    def tax_id(self, spec: CountrySpec, holder: Holder) -> str:
        """A valid tax id (the builders of ``tax_ids``) that no other customer has."""
        make = spec.org_tax_id if holder.kind == ORG else spec.person_tax_id
        for attempt in range(1000):
            if attempt == 100:  # a province may run out of CIFs with millions of companies
                province = str(self.rng.randint(1, 52)).zfill(2)
                holder = Holder(ORG, name=holder.name, province=province,
                                cif_letter=holder.cif_letter)  # fmt: skip
            value = make(self.rng, holder)
            key = hash((spec.code, value))
            if key not in self.taken:
                self.taken.add(key)
                return value
        raise RuntimeError(f"No unused tax id left in {spec.code}.")

    def customer(self, country: str, stage: str) -> Planned:
        """One customer of ``country`` at ``stage``: a phone, an e-mail, its fiscal address."""
        rng, rnd, one, refs = self.rng, self.rng.random, self.one, self.refs
        kit = self.kits[country]
        spec = kit.spec
        place = kit.places.pick(rnd)
        city = place.city
        is_org = rnd() < 0.7
        female = rnd() < 0.5
        first = one(kit.female if female else kit.male)
        first_name = last_name = ""
        fiscal_type: str | None
        if is_org:
            fiscal_type, name, legal_name, trade_name, legal_form, letter = self.company(kit, city)
            surnames: tuple[str, ...] = (self.surname(kit),)  # of the contact person
            domain = f"{self.slug(name)[:40].strip('-')}.example"
            holder = Holder(ORG, name=name, province=city.postal[0][:2], cif_letter=letter)
        else:
            surnames = tuple(self.surname(kit) for _ in range(2 if spec.two_surnames else 1))
            first_name, last_name = first, " ".join(surnames)
            legal_name, legal_form = f"{first} {last_name}", ""
            fiscal_type = "autonomo" if rnd() < 0.35 else "particular"
            trade_name = ""
            if fiscal_type == "autonomo" and rnd() < 0.5:
                trade_name = f"{one(words.TRADES)} {surnames[0]}"
            domain = one(("example.com", "example.net", "example.org"))
            holder = Holder(PERSON, first_name=first, surnames=surnames, female=female)
        tax_id = tax_id_type = ""
        if rnd() < shares.COMPLETE_SHARE[stage]:
            tax_id = self.tax_id(spec, holder)
            tax_id_type = TAX_ID_TYPES.get(country, "")
            if country == "ES":  # the CIF implies the legal form, as the services infer it
                legal_form = CIF_LEGAL_FORM[tax_id[0]] if is_org else ""
                tax_id_type = "es_cif" if is_org else "es_nie" if tax_id[0] in "XY" else "es_nif"
        elif is_org and rnd() < 0.3:
            fiscal_type = None  # not asked yet

        # Status, loss and the commercial terms, in the planner's proportions.
        status, status_reason, loss_reason, loss_detail = "active", "", "", ""
        if stage == "client" and rnd() < 0.045:
            status, status_reason = "suspended", one(words.STATUS_REASONS)
        elif rnd() < INACTIVE_SHARE[stage]:
            status = "inactive"
        if stage in self.losses:
            loss_reason = self.losses[stage].pick(rnd)
            if loss_reason == "competitor" or rnd() < 0.6:
                loss_detail = one(words.LOSS_DETAILS[loss_reason])
        group_id = terms = None
        if stage in ("client", "former") and rnd() < 0.75:
            group_id, terms = refs.groups.get(self.groups[ORG if is_org else PERSON].pick(rnd),
                                              (None, None))  # fmt: skip
        payment = ""
        if stage in ("client", "former", "prospect"):
            payment = self.payments["ES" if country == "ES" else "LATAM"].pick(rnd)
            terms = one((0, 15, 30, 30, 60, 90)) if group_id is None else terms
        sector = revenue = potential = None
        size = ""
        if is_org or fiscal_type == "autonomo":
            sector = refs.sectors.get(one(SECTORS))
            size = self.sizes.pick(rnd) if is_org else "micro"
            if rnd() < 0.7:
                low, high = shares.REVENUE_RANGES[size]
                revenue = f"{rng.randint(low, high) * spec.eur_rate * 1000}.00"
        if stage in ("lead", "prospect") and rnd() < 0.5:
            potential = f"{rng.randint(5, 250) * 1000 * spec.eur_rate}.00"
        tags: tuple[int, ...] = ()
        if rnd() < 0.4:
            names = rng.sample(TAGS, 2 if rnd() < 1 / 3 else 1)
            tags = tuple(refs.tags[n] for n in names if n in refs.tags)
        owner = one(kit.owners)
        day = 24 * 60  # minutes ago: created up to two years back, some overdue for review
        created = int(rnd() * 730 * day)
        if created > 200 * day and rnd() < 0.3:
            reviewed = rng.randint(190 * day, created)
        else:
            reviewed = int(rnd() * min(created, 150 * day))
        created_at = str(self.now - timedelta(minutes=created))
        reviewed_at = str(self.now - timedelta(minutes=reviewed))
        archived_at = reviewed_at if loss_reason and rnd() < ARCHIVED_SHARE else None

        landline = is_org and rnd() < 0.7
        phone = (place.landline if landline else one(place.mobiles)).make(rng)
        if is_org:
            local = one(("info", "contacto", "administracion", "comercial", "hola"))
            email, email_label = f"{local}@{domain}", "general"
        else:
            email, email_label = f"{self.email_local(first, surnames[0])}@{domain}", ""
        channels = [("phone", phone[2], phone[0], True, 0), ("email", email_label, email, False, 1)]
        postal = one(place.postal)(rng)
        region = city.region or self.region(postal, country)
        interior = one(kit.interiors)(rng) if rnd() < 0.4 else ""
        quarter = ""
        if city.neighbourhoods and rnd() < spec.neighbourhood_share:
            quarter = one(city.neighbourhoods)
        exterior = "s/n" if country == "ES" and rnd() < 0.03 else kit.exterior(rng)
        address = ("fiscal", one(kit.streets)(rng), exterior, interior, quarter, city.name,
                   city.locality, postal, region, country)  # fmt: skip
        contacts = []
        if is_org and rnd() < CONTACT_SHARE:
            contacts = self.contacts(kit, place, (first, surnames[0], female), domain)

        # Customer.build_search_text after the code: names, squashed tax id, each channel's
        # search form, each contact's names and e-mail (main contact first).
        f = self.fold
        search = " ".join([f(p) for p in (legal_name, trade_name, first_name, last_name) if p])
        if tax_id:
            search += " " + (tax_id.lower() if tax_id.isalnum() else squash(tax_id))
        search += f" {phone[0][1:]} {phone[1]} {self.fold_email(email)}"
        for contact in contacts:
            search += f" {f(contact[0])} {f(contact[1])} {self.fold_email(contact[3])}"
        values = (
            ORG if is_org else PERSON, refs.fiscal_types.get(fiscal_type or ""), legal_name,
            trade_name, first_name, last_name, refs.legal_forms.get((country, legal_form)),
            tax_id, tax_id_type, country, stage, status, status_reason, loss_reason,
            loss_detail, group_id, rnd() < 0.15, owner, one(words.NOTES) if rnd() < 0.3 else "",
            payment, terms, kit.currency, "es", refs.lead_sources.get(one(LEAD_SOURCES)), sector,
            size, revenue, potential, "{}", reviewed_at, archived_at, created_at, reviewed_at,
            owner, owner, 1, sort_name_of(legal_name, trade_name),
        )  # fmt: skip
        return Planned(values, search, channels, address, contacts, tags, country, stage)

    def contacts(
        self, kit: Kit, place: Place, person: tuple[str, str, bool], domain: str
    ) -> list[Row]:
        """One or two people at an organisation, the first one (``person``) the main contact."""
        rng, rnd, one, out = self.rng, self.rng.random, self.one, []
        for position in range(2 if rnd() < 1 / 3 else 1):
            first, surname, female = person
            if position:
                female = rnd() < 0.5
                first, surname = one(kit.female if female else kit.male), self.surname(kit)
            surnames = f"{surname} {self.surname(kit)}" if kit.spec.two_surnames else surname
            mobile = one(place.mobiles).make(rng)[0] if rnd() < 0.8 else ""
            phone = place.landline.make(rng)[0] if rnd() < 0.3 else ""
            birthday = None
            if rnd() < 0.3:
                birthday = date(rng.randint(1958, 1999), rng.randint(1, 12), rng.randint(1, 28))
            out.append((
                first, surnames, one(words.CONTACT_ROLES)[1 if female else 0],
                f"{self.email_local(first, surname)}@{domain}", phone, mobile,
                birthday and birthday.isoformat(), "", position == 0,
            ))  # fmt: skip
        return out

    def fold_email(self, email: str) -> str:
        return email.lower() if email.isascii() else fold(email)  # no spaces to squeeze

    def region(self, postal: str, country: str) -> str:
        """The region a postal code implies (Spain's provinces), remembered."""
        region = self.regions.get(postal)
        if region is None:
            region = self.regions[postal] = region_for_postal_code(postal, country) or ""
        return region


@dataclass
class BulkSummary(DemoSummary):
    """What bulk_load wrote, and the seconds it spent in each phase."""

    channels: int = 0
    addresses: int = 0
    contacts: int = 0
    seconds: float = 0.0
    first_code: str = ""
    last_code: str = ""
    phases: dict[str, float] = field(default_factory=dict)


def _rows(planned: list[Planned], ids: list[int], codes: list[str], extra: Row) -> list[list[Row]]:
    """The rows of each table for a batch, now that ids and codes are known."""
    customers, channels, addresses, contacts, tags = [], [], [], [], []
    for pk, code, item in zip(ids, codes, planned, strict=True):
        folded = " ".join(code.lower().split()) if code.isascii() else fold(code)
        customers.append((pk, code, f"{folded} {item.search}", *item.values, *extra))
        channels += [(pk, *channel) for channel in item.channels]
        addresses.append((pk, *item.address))
        contacts += [(pk, *contact) for contact in item.contacts]
        tags += [(pk, tag) for tag in item.tags]
    return [customers, channels, addresses, contacts, tags]


Batches = Generator[list[Planned], None, None]


def _chunks(planner: BulkPlanner, customers: int, batch: int) -> Batches:
    stream = planner.customers(customers)
    while chunk := list(itertools.islice(stream, batch)):
        yield chunk


def _produce(queue: Any, planner: BulkPlanner, customers: int, batch: int) -> None:
    """The generator process: batches into the queue, then None (or the error)."""
    try:
        for chunk in _chunks(planner, customers, batch):
            queue.put(chunk)
        queue.put(None)
    except Exception as exc:  # the parent raises it
        queue.put(exc)


def _from_process(planner: BulkPlanner, customers: int, batch: int) -> Batches:
    """Batches generated in a forked process, so that generating and writing use both cores.

    The fork happens now, before the load changes any setting of this process's connection.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)  # a few batches ahead, no more: memory stays flat
    connections.close_all()  # a connection must not cross a fork; ours reopens on next use
    process = context.Process(target=_produce, args=(queue, planner, customers, batch))
    process.start()
    return _drain(queue, process)


def _drain(queue: Any, process: Any) -> Batches:
    try:
        while True:
            try:
                item = queue.get(timeout=10)
            except Empty:
                if process.is_alive():
                    continue
                raise RuntimeError("The process generating the customers stopped.") from None
            if isinstance(item, Exception):
                raise RuntimeError("The process generating the customers failed.") from item
            if item is None:
                break
            yield item
        process.join()
    finally:
        if process.is_alive():
            process.terminate()
            process.join()


def bulk_load(
    *, customers: int, seed: int, batch: int = 5000, stdout: Writer | None = None
) -> BulkSummary:
    """Insert ``customers`` generated customers in batches (2 channels and 1 address each)."""
    started = time.perf_counter()
    summary = BulkSummary()
    with transaction.atomic():
        summary.users_created = ensure_users()[1]
        refs = References.load()
    existing = Customer.objects.exclude(tax_id="").values_list("tax_country", "tax_id")
    planner = BulkPlanner(seed, refs, taken={hash(p) for p in existing.iterator(20_000)})
    company = Company.load()
    connection = default_connection
    if connection.vendor not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"bulk_load does not support {connection.vendor}.")
    store = (SQLiteStore if connection.vendor == "sqlite" else PostgresStore)(connection)
    # Small loads, and loads inside a transaction (tests), generate in this process.
    forked = customers >= PROCESS_FROM and not connection.in_atomic_block
    batches = (_from_process if forked else _chunks)(planner, customers, batch)
    phases, done = summary.phases, 0
    store.before()
    try:
        while True:
            clock = time.perf_counter()
            planned = next(batches, None)
            phases["generate"] = phases.get("generate", 0.0) + time.perf_counter() - clock
            if planned is None:
                break
            clock = time.perf_counter()
            with transaction.atomic():
                codes = take_customer_codes(len(planned), company)
                rows = _rows(planned, store.reserve_ids(len(planned)), codes, store.extra)
                store.write(rows)
            phases["write"] = phases.get("write", 0.0) + time.perf_counter() - clock
            summary.first_code = summary.first_code or codes[0]
            summary.last_code = codes[-1]
            summary.channels += len(rows[1])
            summary.addresses += len(rows[2])
            summary.contacts += len(rows[3])
            for item in planned:
                summary.by_country.setdefault(item.country, Counter())[item.stage] += 1
            previous, done = done, done + len(planned)
            if stdout is not None and done // PROGRESS_EVERY > previous // PROGRESS_EVERY:
                elapsed = number_format(time.perf_counter() - started, 1)
                count = number_format(done, force_grouping=True)
                line = gettext("%(count)s customers · %(seconds)s s") % {
                    "count": count,
                    "seconds": elapsed,
                }
                stdout.write(f"  {line}\n")
    finally:
        batches.close()  # stops the generator process if the load failed
        if stdout is not None:
            stdout.write(gettext("Building the indexes and the search index…") + "\n")
        clock = time.perf_counter()
        store.after()
        phases["index"] = time.perf_counter() - clock
    clock = time.perf_counter()
    store.analyze()
    phases["analyze"] = time.perf_counter() - clock
    summary.customers = done
    summary.seconds = time.perf_counter() - started
    return summary
