"""Exports of customer lists and segments: CSV and XLSX with chosen columns, and vCards.

An export reads the customers the way the list shows them: ``Customer.objects.visible_to``,
the list's ``CustomerFilter`` (or a segment's saved filters) and its sort. Rows are read with
``iterator(chunk_size=CHUNK_SIZE)``; what hangs off a customer (tags, channels, addresses)
is fetched once per chunk, so an export of any length runs a fixed number of queries per
chunk and keeps a flat memory. CSV is written while it is read; XLSX goes to a temporary file
(xlsxwriter's constant_memory mode) that is then sent.

Spanish exports have Spanish headers, dates as dd/mm/aaaa, a decimal comma and ``;`` between
fields (what Excel expects in Spain); English ones use ISO dates, a decimal point and ``,``.
Text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from django.db.models import Prefetch
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import User
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.core.countries import country_name, region_name
from cartera.core.models import Company
from cartera.core.pagination import bound
from cartera.core.spreadsheets import neutralise
from cartera.customers.fiscal import format_tax_id
from cartera.customers.models import (
    Address,
    AddressType,
    ChannelType,
    Contact,
    ContactChannel,
    Customer,
    CustomerQuerySet,
    CustomField,
    CustomFieldType,
    Segment,
)
from cartera.customers.segments import SegmentInvalid, segment_customers
from cartera.customers.validation import CustomerInvalid

CHUNK_SIZE = 1000
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
FORMATS = ("csv", "xlsx", "vcf")
# The list's parameters that say how it is shown, not which customers it holds.
NOT_FILTERS = frozenset({"page", "page_size", "segment"})
# Numbers whose digits reach this far from the decimal point are written with an exponent
# ("1E+400"): written out they would fill megabytes of a single cell.
_PLAIN_DIGITS = 30
# What an Excel cell holds, in UTF-16 code units (an emoji counts two).
XLSX_MAX_TEXT = 32_767


class ExportInvalid(CustomerInvalid):
    """The export's columns, format or filters were refused; keyed by field."""


@dataclass(frozen=True)
class Context:
    """What the cells of one export are computed with, and what it has looked up already."""

    home_region: str
    custom_fields: dict[str, CustomField]
    # Labels of choices, country and region names: read once per export, not once per row.
    memo: dict[tuple[str, str], str] = field(default_factory=dict)

    def choice(self, name: str, value: str) -> str:
        key = (name, value)
        if key not in self.memo:
            choices = dict(Customer._meta.get_field(name).flatchoices)  # type: ignore[union-attr]
            self.memo[key] = str(choices.get(value, value))
        return self.memo[key]

    def place(self, kind: str, code: str) -> str:
        key = (kind, code)
        if key not in self.memo:
            self.memo[key] = country_name(code) if kind == "country" else region_name(code)
        return self.memo[key]


Getter = Callable[[Customer, Context], Any]


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    group: str | Promise
    get: Getter
    related: tuple[str, ...] = ()  # select_related / prefetch_related names it needs


def _main_channel(customer: Customer, kind: str) -> ContactChannel | None:
    """The main channel of a type: the one marked main, else the first (prefetched)."""
    chosen = None
    for channel in customer.channels.all():
        if channel.type == kind and (
            chosen is None or (channel.is_primary and not chosen.is_primary)
        ):
            chosen = channel
    return chosen


def _fiscal_address(customer: Customer) -> Address | None:
    """The fiscal address, else the first one; found once per row for all its columns."""
    if not hasattr(customer, "_export_address"):
        addresses = list(customer.addresses.all())
        fiscal = [a for a in addresses if a.type == AddressType.FISCAL]
        customer._export_address = next(iter(fiscal or addresses), None)  # type: ignore[attr-defined]
    return customer._export_address  # type: ignore[attr-defined]


def _address(part: Callable[[Address, Context], str]) -> Getter:
    def get(customer: Customer, ctx: Context) -> str:
        address = _fiscal_address(customer)
        return part(address, ctx) if address else ""

    return get


def _street(address: Address, ctx: Context) -> str:
    parts = [address.street, address.exterior_number, address.interior_number]
    return " ".join(p for p in parts if p)


def _phone(customer: Customer, ctx: Context) -> str:
    channel = _main_channel(customer, ChannelType.PHONE)
    return channel.display(ctx.home_region) if channel else ""


def _channel(kind: str) -> Getter:
    def get(customer: Customer, ctx: Context) -> str:
        channel = _main_channel(customer, kind)
        return channel.value if channel else ""

    return get


def _tax_id(customer: Customer, ctx: Context) -> str:
    if not customer.tax_id:
        return ""
    return format_tax_id(customer.tax_id, customer.tax_country, customer.tax_id_type)


def _attr(name: str) -> Getter:
    return lambda customer, ctx: getattr(customer, name)


def _display(name: str) -> Getter:
    return lambda customer, ctx: ctx.choice(name, getattr(customer, name))


def _str_of(name: str) -> Getter:
    def get(customer: Customer, ctx: Context) -> str:
        value = getattr(customer, name)
        return str(value) if value is not None else ""

    return get


_IDENTITY = gettext_lazy("Identity")
_FISCAL = gettext_lazy("Fiscal data")
_CONTACT = gettext_lazy("Contact")
_ADDRESS = gettext_lazy("Fiscal address")
_SALES = gettext_lazy("Sales management")
_DATES = gettext_lazy("Dates")
_CUSTOM = gettext_lazy("Custom fields")

COLUMNS: tuple[Column, ...] = (
    Column("code", gettext_lazy("Code"), _IDENTITY, _attr("code")),
    Column("legal_name", gettext_lazy("Legal name"), _IDENTITY, _attr("legal_name")),
    Column("trade_name", gettext_lazy("Trade name"), _IDENTITY, _attr("trade_name")),
    Column("first_name", gettext_lazy("First name"), _IDENTITY, _attr("first_name")),
    Column("last_name", gettext_lazy("Surnames"), _IDENTITY, _attr("last_name")),
    Column("kind", gettext_lazy("Kind"), _IDENTITY, _display("kind")),
    Column("tax_id", gettext_lazy("Tax id"), _FISCAL, _tax_id),
    Column("tax_country", gettext_lazy("Tax country"), _FISCAL, _attr("tax_country")),
    Column("fiscal_type", gettext_lazy("Fiscal type"), _FISCAL, _str_of("fiscal_type"),
           ("fiscal_type",)),
    Column("legal_form", gettext_lazy("Legal form"), _FISCAL,
           lambda c, ctx: c.legal_form.code if c.legal_form else "", ("legal_form",)),
    Column("phone", gettext_lazy("Main phone"), _CONTACT, _phone, ("channels",)),
    Column("email", gettext_lazy("Main e-mail"), _CONTACT, _channel(ChannelType.EMAIL),
           ("channels",)),
    Column("website", gettext_lazy("Website"), _CONTACT, _channel(ChannelType.WEBSITE),
           ("channels",)),
    Column("street", gettext_lazy("Address"), _ADDRESS, _address(_street), ("addresses",)),
    Column("neighbourhood", gettext_lazy("Neighbourhood"), _ADDRESS,
           _address(lambda a, ctx: a.neighbourhood), ("addresses",)),
    Column("postal_code", gettext_lazy("Postal code"), _ADDRESS,
           _address(lambda a, ctx: a.postal_code), ("addresses",)),
    Column("municipality", gettext_lazy("Municipality"), _ADDRESS,
           _address(lambda a, ctx: a.municipality or a.locality), ("addresses",)),
    Column("region", gettext_lazy("Region"), _ADDRESS,
           _address(lambda a, ctx: ctx.place("region", a.region)), ("addresses",)),
    Column("country", gettext_lazy("Country"), _ADDRESS,
           _address(lambda a, ctx: ctx.place("country", a.country)), ("addresses",)),
    Column("stage", gettext_lazy("Stage"), _SALES, _display("stage")),
    Column("status", gettext_lazy("Status"), _SALES, _display("status")),
    Column("activity", gettext_lazy("Purchase activity"), _SALES,
           lambda c, ctx: c.get_activity_display(), ("purchase",)),
    Column("owner", gettext_lazy("Owner"), _SALES, _str_of("owner"), ("owner",)),
    Column("group", gettext_lazy("Group"), _SALES, _str_of("group"), ("group",)),
    Column("tags", gettext_lazy("Tags"), _SALES,
           lambda c, ctx: ", ".join(t.name for t in c.tags.all()), ("tags",)),
    Column("follow_up", gettext_lazy("Follow-up"), _SALES, _attr("follow_up")),
    Column("sector", gettext_lazy("Sector"), _SALES, _str_of("sector"), ("sector",)),
    Column("lead_source", gettext_lazy("Lead source"), _SALES, _str_of("lead_source"),
           ("lead_source",)),
    Column("payment_method", gettext_lazy("Payment method"), _SALES, _display("payment_method")),
    Column("payment_terms_days", gettext_lazy("Payment terms (days)"), _SALES,
           _attr("payment_terms_days")),
    Column("currency", gettext_lazy("Currency"), _SALES, _attr("currency")),
    Column("annual_revenue", gettext_lazy("Estimated annual revenue"), _SALES,
           _attr("annual_revenue")),
    Column("notes", gettext_lazy("Notes"), _SALES, _attr("notes")),
    Column("client_since", gettext_lazy("Client since"), _DATES, _attr("client_since")),
    Column("created_at", gettext_lazy("Created"), _DATES, _attr("created_at")),
    Column("updated_at", gettext_lazy("Updated"), _DATES, _attr("updated_at")),
    Column("reviewed_at", gettext_lazy("Data reviewed"), _DATES, _attr("reviewed_at")),
)  # fmt: skip

DEFAULT_COLUMNS = (
    "code", "legal_name", "trade_name", "tax_id", "stage", "status", "phone", "email",
    "municipality", "region", "owner",
)  # fmt: skip
_SELECT_RELATED = {
    "fiscal_type", "legal_form", "owner", "group", "sector", "lead_source", "purchase",
}  # fmt: skip


def _custom_value(definition: CustomField) -> Getter:
    def get(customer: Customer, ctx: Context) -> Any:
        value = (customer.custom_data or {}).get(definition.key)
        if value in (None, ""):
            return None
        try:
            if definition.field_type == CustomFieldType.NUMBER:
                return Decimal(str(value))
            if definition.field_type == CustomFieldType.DATE:
                return datetime.date.fromisoformat(str(value))
        except (ArithmeticError, ValueError):
            return str(value)
        return value

    return get


def available_columns(custom_fields: Sequence[CustomField] | None = None) -> list[Column]:
    """Every column an export may have: the register's fields, then the active custom fields."""
    if custom_fields is None:
        custom_fields = list(CustomField.objects.filter(is_active=True))
    custom = [Column(f"cf_{d.key}", d.label, _CUSTOM, _custom_value(d)) for d in custom_fields]
    return [*COLUMNS, *custom]


def choose_columns(keys: Sequence[str], available: Sequence[Column]) -> list[Column]:
    """The columns named by ``keys``, in the order given; unknown or repeated keys refused."""
    by_key = {c.key: c for c in available}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ExportInvalid(
            {"columns": [_("Unknown columns: %(keys)s.") % {"keys": ", ".join(unknown)}]}
        )
    if not keys:
        raise ExportInvalid({"columns": [_("Choose at least one column.")]})
    return [by_key[k] for k in dict.fromkeys(keys)]


# --- Which customers -------------------------------------------------------------------------


def list_query(params: QueryDict) -> str:
    """The list's query string as an export keeps it: filters and sort, without paging."""
    kept = QueryDict(mutable=True)
    for name in params:
        if name not in NOT_FILTERS:
            values = [v for v in params.getlist(name) if v.strip()]
            if values:
                kept.setlist(name, values)
    return kept.urlencode()


def customers_for(
    *, user: User, query: str = "", segment: Segment | None = None
) -> CustomerQuerySet:
    """The customers an export holds: those the list (or the segment) shows ``user``, sorted
    like it. A search is bounded the way the list bounds it."""
    try:  # a filter the list would ignore is refused, never taken as no filter
        queryset, _form = segment_customers(
            query if segment is None else segment, user=user, strict=True
        )
    except SegmentInvalid as exc:
        raise ExportInvalid(exc.messages_by_field) from None
    if queryset.is_search:
        queryset, _count, _exact = bound(queryset)
    return queryset


def _with_related(queryset: CustomerQuerySet, columns: Sequence[Column]) -> CustomerQuerySet:
    needed = {name for column in columns for name in column.related}
    selected = sorted(needed & _SELECT_RELATED)
    prefetched: list[Any] = []
    if "channels" in needed:
        prefetched.append("channels")
    if "addresses" in needed:
        prefetched.append(Prefetch("addresses", queryset=Address.objects.order_by("type", "id")))
    if "tags" in needed:
        prefetched.append("tags")
    return queryset.select_related(*selected).prefetch_related(*prefetched)


def in_chunks(queryset: CustomerQuerySet, size: int) -> Iterator[list[Customer]]:
    """The customers of ``queryset`` in its order, ``size`` at a time, each chunk read with its
    related data in a fixed number of queries.

    The ids are read first, in order, into a compact array (8 bytes a customer: 8 MB for a
    million), then each chunk by id. Sorting only (sort key, id) keeps the database's sort
    small: SQLite sorts in memory here (temp_store=MEMORY), and sorting whole rows of a
    million customers would cost it more than a gigabyte.
    """
    ids = array("q", queryset.values_list("pk", flat=True).iterator(chunk_size=size * 10))
    for start in range(0, len(ids), size):
        yield list(queryset.among(ids[start : start + size].tolist()))


# --- An export --------------------------------------------------------------------------------


@dataclass
class Export:
    """One export about to be written: its customers, columns and format."""

    user: User
    format: str
    queryset: CustomerQuerySet
    columns: list[Column] = field(default_factory=list)
    language: str = "es"
    count: int = 0

    @property
    def filename(self) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = _("customers") if self.format != "vcf" else _("contacts")
        return f"{name}-{stamp}.{self.format}"

    @property
    def spanish(self) -> bool:
        return self.language.startswith("es")

    def context(self) -> Context:
        fields = {d.key: d for d in CustomField.objects.filter(is_active=True)}
        return Context(home_region=Company.load().default_country, custom_fields=fields)

    def rows(self, *, chunk_size: int = 0) -> Iterator[list[Any]]:
        """The values of each row (Python values, not text), read chunk by chunk."""
        ctx = self.context()
        queryset = _with_related(self.queryset, self.columns)
        for chunk in in_chunks(queryset, chunk_size or CHUNK_SIZE):
            for customer in chunk:
                yield [column.get(customer, ctx) for column in self.columns]

    def headers(self) -> list[str]:
        return [str(column.label) for column in self.columns]


def start_export(
    *,
    user: User,
    format: str,
    columns: Sequence[str] = (),
    query: str = "",
    segment: Segment | None = None,
    language: str | None = None,
) -> Export:
    """Check an export, count its customers and record it in the audit (one event)."""
    if format not in FORMATS:
        raise ExportInvalid({"format": [_("Choose CSV, XLSX or vCard.")]})
    chosen = choose_columns(columns, available_columns()) if format != "vcf" else []
    queryset = customers_for(user=user, query=query, segment=segment)
    count = queryset.count()
    if format == "xlsx" and count > XLSX_MAX_ROWS:
        message = _("An XLSX sheet holds at most %(max)s rows: export as CSV, or filter.")
        raise ExportInvalid({"format": [message % {"max": f"{XLSX_MAX_ROWS:,}"}]})
    export = Export(
        user=user,
        format=format,
        queryset=queryset,
        columns=chosen,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        count=count,
    )
    record_export(export, query=segment.query if segment else query, segment=segment)
    return export


def record_export(export: Export, *, query: str, segment: Segment | None) -> None:
    """One audit event for the whole export: who, what, which filters, how many rows."""
    changes: dict[str, Any] = {
        "format": [None, export.format],
        "filters": [None, query],
        "rows": [None, export.count],
    }
    if export.columns:
        changes["columns"] = [None, [c.key for c in export.columns]]
    audit.record(
        action=Action.EXPORT,
        object_type="segment" if segment else "customer_list",
        object_id=segment.pk if segment else None,
        label=segment.name if segment else _("Customer list"),
        by=export.user,
        changes=changes,
    )


# --- CSV --------------------------------------------------------------------------------------


def number_text(value: int | Decimal | float, *, spanish: bool) -> str:
    """A number as text in the export's language: written out in full ("0.0000001", "100"),
    except when that would take more than a few dozen digits ("1E+400")."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
    else:
        exponent = value.as_tuple().exponent  # a letter for infinity and NaN
        plain = isinstance(exponent, int) and exponent >= -_PLAIN_DIGITS
        text = f"{value:f}" if plain and value.adjusted() < _PLAIN_DIGITS else str(value)
    return text.replace(".", ",") if spanish else text


def csv_cell(value: Any, *, spanish: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.strftime("%d/%m/%Y %H:%M" if spanish else "%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y" if spanish else "%Y-%m-%d")
    if isinstance(value, Decimal | float):
        return number_text(value, spanish=spanish)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_chunks(export: Export, *, chunk_size: int = 0) -> Iterator[bytes]:
    """The CSV file, UTF-8 with a BOM, a few hundred rows at a time."""
    size = chunk_size or CHUNK_SIZE
    with translation.override(export.language):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";" if export.spanish else ",")
        writer.writerow([neutralise(h) for h in export.headers()])
        yield ("\ufeff" + buffer.getvalue()).encode()
        buffer.seek(0)
        buffer.truncate()
        for number, row in enumerate(export.rows(chunk_size=size), start=1):
            writer.writerow([csv_cell(v, spanish=export.spanish) for v in row])
            if number % 500 == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()


# --- XLSX -------------------------------------------------------------------------------------


def xlsx_number(value: int | Decimal | float) -> float | None:
    """The number as Excel holds it (a double), or None when it cannot: infinite, not a
    number, or so large or small that it would be read as infinity or zero."""
    try:
        number = float(value)
    except (OverflowError, ValueError):  # an int beyond a double, a signalling NaN
        return None
    if not math.isfinite(number) or (number == 0 and value != 0):
        return None
    return number


def xlsx_text(text: str) -> str:
    """Text cut to what an Excel cell holds, ending with "…" when it was cut."""
    if len(text) * 2 <= XLSX_MAX_TEXT:  # no need to count: fits even if all were astral
        return text
    units = text.encode("utf-16-le")
    if len(units) // 2 <= XLSX_MAX_TEXT:
        return text
    # "ignore" drops half of a surrogate pair cut in two: never half a character
    kept = units[: (XLSX_MAX_TEXT - 1) * 2].decode("utf-16-le", errors="ignore")
    return kept + "…"


def write_xlsx(export: Export, target: IO[bytes] | None = None) -> IO[bytes]:
    """The workbook written row by row (constant memory) to a temporary file, rewound."""
    out = target or tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - returned open
    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "in_memory": False,
    }
    workbook = xlsxwriter.Workbook(out, options)
    with translation.override(export.language):
        sheet = workbook.add_worksheet(_("Customers"))
        bold = workbook.add_format({"bold": True})
        date = workbook.add_format({"num_format": "dd/mm/yyyy" if export.spanish else "yyyy-mm-dd"})
        moment = workbook.add_format(
            {"num_format": "dd/mm/yyyy hh:mm" if export.spanish else "yyyy-mm-dd hh:mm"}
        )
        for col, header in enumerate(export.headers()):
            sheet.write_string(0, col, header, bold)
            sheet.set_column(col, col, max(10, min(40, len(header) + 4)))
        sheet.freeze_panes(1, 0)
        yes, no = _("Yes"), _("No")
        spanish = export.spanish
        for row_number, row in enumerate(export.rows(), start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    sheet.write_string(row_number, col, yes if value else no)
                elif isinstance(value, datetime.datetime):
                    local = timezone.localtime(value) if timezone.is_aware(value) else value
                    sheet.write_datetime(row_number, col, local.replace(tzinfo=None), moment)
                elif isinstance(value, datetime.date):
                    sheet.write_datetime(row_number, col, value, date)
                elif isinstance(value, int | Decimal | float):
                    number = xlsx_number(value)
                    if number is not None:
                        sheet.write_number(row_number, col, number)
                    else:
                        sheet.write_string(row_number, col, number_text(value, spanish=spanish))
                else:
                    # Always text: "=HYPERLINK(...)" or "+34 …" never become a formula.
                    sheet.write_string(row_number, col, xlsx_text(str(value)))
    workbook.close()
    out.seek(0)
    return out


# --- vCard ------------------------------------------------------------------------------------


def vcard_escape(text: str) -> str:
    """A text value as vCard 3.0 writes it (RFC 2426): \\ , ; and new lines escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """A content line folded at 75 octets (never inside a UTF-8 character), CRLF-terminated."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line + "\r\n"
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with a space
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts) + "\r\n"


def vcard(contact: Contact, organisation: str) -> str:
    """One contact as a vCard 3.0."""
    first, last = contact.first_name.strip(), contact.last_name.strip()
    name = contact.full_name or contact.email or organisation
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{vcard_escape(last)};{vcard_escape(first)};;;",
        f"FN:{vcard_escape(name)}",
        f"ORG:{vcard_escape(organisation)}",
    ]
    if contact.role:
        lines.append(f"TITLE:{vcard_escape(contact.role)}")
    if contact.phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{contact.phone}")
    if contact.mobile:
        lines.append(f"TEL;TYPE=CELL,VOICE:{contact.mobile}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET:{contact.email}")
    if contact.birthday:
        lines.append(f"BDAY:{contact.birthday.isoformat()}")
    if contact.notes:
        lines.append(f"NOTE:{vcard_escape(contact.notes)}")
    lines += [f"UID:cartera-contact-{contact.pk}", "END:VCARD"]
    return "".join(fold(line) for line in lines)


def vcard_chunks(export: Export, *, chunk_size: int = 0) -> Iterator[bytes]:
    """The contacts of the export's customers, in the list's order, as one vCard file."""
    contacts = Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "id"))
    queryset = export.queryset.prefetch_related(contacts)
    for chunk in in_chunks(queryset, chunk_size or CHUNK_SIZE):
        cards = [
            vcard(c, customer.display_name) for customer in chunk for c in customer.contacts.all()
        ]
        if cards:
            yield "".join(cards).encode()


def customer_vcards(customer: Customer, *, by: User) -> bytes:
    """The contacts of one customer (already read through ``visible_to``) as vCards."""
    contacts = list(customer.contacts.order_by("-is_primary", "id"))
    audit.record_on_customer(
        customer, action=Action.EXPORT, by=by,
        changes={"format": [None, "vcf"], "rows": [None, len(contacts)]},
    )  # fmt: skip
    return "".join(vcard(c, customer.display_name) for c in contacts).encode()
