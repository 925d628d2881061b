"""What a column can be, how headers are recognised, and how cells become customer data.

A mapping is ``{column index: field key}``. ``guess_mapping`` recognises the usual Spanish
and English headers (accents and case ignored). ``Converter`` turns one row's cells into the
plain data ``validate_customer`` takes; only what a cell cannot mean (a date that is not a
date, a stage that does not exist) is refused here — every rule of a valid customer is the
validator's.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

import pycountry
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.models import Role, User
from cartera.core.countries import subdivision_names
from cartera.core.text import fold
from cartera.customers.models import (
    CompanySize,
    CustomerGroup,
    CustomField,
    FiscalType,
    Kind,
    LeadSource,
    LegalForm,
    LossReason,
    PaymentMethod,
    Sector,
    Stage,
    Status,
)


@dataclass(frozen=True)
class Field:
    key: str
    label: str | Promise
    headers: tuple[str, ...] = ()  # folded header spellings that mean this field


FIELDS: tuple[Field, ...] = (
    Field("legal_name", gettext_lazy("Legal name"),
          ("razon social", "nombre fiscal", "denominacion social", "nombre o razon social",
           "legal name", "company name", "company", "empresa", "cliente", "nombre cliente",
           "nombre del cliente", "nombre de cliente", "customer", "customer name",
           "client name")),
    Field("trade_name", gettext_lazy("Trade name"),
          ("nombre comercial", "nombre de fantasia", "trade name", "marca")),
    Field("first_name", gettext_lazy("First name"), ("nombre", "first name", "name")),
    Field("last_name", gettext_lazy("Surnames"),
          ("apellidos", "apellido", "last name", "surname", "surnames")),
    Field("kind", gettext_lazy("Kind (individual or organisation)"),
          ("tipo de persona", "persona", "kind", "persona fisica o juridica")),
    Field("fiscal_type", gettext_lazy("Fiscal type"),
          ("tipo", "tipo de cliente", "tipo fiscal", "fiscal type", "type")),
    Field("legal_form", gettext_lazy("Legal form"), ("forma juridica", "legal form")),
    Field("tax_id", gettext_lazy("Tax id"),
          ("nif", "cif", "nie", "dni", "rfc", "ruc", "cuit", "cuil", "rut", "nit", "rif", "rnc",
           "nif/cif", "cif/nif", "identificador fiscal", "id fiscal", "tax id", "vat",
           "vat number", "numero fiscal")),
    Field("tax_country", gettext_lazy("Tax country"), ("pais fiscal", "tax country")),
    Field("stage", gettext_lazy("Stage"), ("etapa", "fase", "jerarquia", "stage")),
    Field("status", gettext_lazy("Status"), ("estado del cliente", "situacion", "status")),
    Field("loss_reason", gettext_lazy("Reason for loss"),
          ("motivo de perdida", "loss reason", "reason for loss")),
    Field("owner", gettext_lazy("Owner"),
          ("comercial", "responsable", "vendedor", "agente", "owner", "salesperson",
           "account manager")),
    Field("notes", gettext_lazy("Notes"),
          ("observaciones", "notas", "comentarios", "notes", "comments", "remarks")),
    Field("phone", gettext_lazy("Phone"),
          ("telefono", "tel", "tel.", "telefono fijo", "phone", "telephone", "phone number")),
    Field("mobile", gettext_lazy("Mobile"), ("movil", "celular", "mobile", "cell phone")),
    Field("email", gettext_lazy("E-mail"),
          ("correo electronico", "correo", "e-mail", "email", "mail", "email address")),
    Field("billing_email", gettext_lazy("Billing e-mail"),
          ("email facturacion", "correo de facturacion", "billing email")),
    Field("website", gettext_lazy("Website"), ("web", "pagina web", "sitio web", "website", "url")),
    Field("street", gettext_lazy("Street and number"),
          ("direccion", "domicilio", "calle", "direccion fiscal", "address", "street")),
    Field("exterior_number", gettext_lazy("Exterior number"),
          ("numero", "num", "no. exterior", "numero exterior", "number")),
    Field("interior_number", gettext_lazy("Interior number / door"),
          ("piso", "puerta", "numero interior", "no. interior", "interior")),
    Field("neighbourhood", gettext_lazy("Neighbourhood / colonia"),
          ("colonia", "barrio", "neighbourhood", "neighborhood")),
    Field("postal_code", gettext_lazy("Postal code"),
          ("c.p.", "cp", "codigo postal", "cod. postal", "postal code", "zip", "zip code")),
    Field("municipality", gettext_lazy("Municipality"),
          ("municipio", "poblacion", "ciudad", "municipality", "city", "town")),
    Field("locality", gettext_lazy("Locality"), ("localidad", "locality")),
    Field("region", gettext_lazy("Province / state"),
          ("provincia", "estado", "departamento", "region", "comunidad", "province", "state")),
    Field("country", gettext_lazy("Country"), ("pais", "country")),
    Field("contact_name", gettext_lazy("Contact person"),
          ("contacto", "persona de contacto", "contact", "contact person", "contact name")),
    Field("contact_role", gettext_lazy("Contact's role"), ("cargo", "puesto", "role", "job title")),
    Field("contact_email", gettext_lazy("Contact's e-mail"), ("email contacto", "contact email")),
    Field("contact_phone", gettext_lazy("Contact's phone"), ("telefono contacto", "contact phone")),
    Field("contact_birthday", gettext_lazy("Contact's birthday"),
          ("cumpleanos", "fecha de nacimiento", "birthday", "date of birth")),
    Field("group", gettext_lazy("Group"), ("grupo", "clasificacion", "group")),
    Field("lead_source", gettext_lazy("Lead source"), ("origen", "fuente", "lead source")),
    Field("sector", gettext_lazy("Sector"), ("sector", "actividad", "industry")),
    Field("size", gettext_lazy("Size"), ("tamano", "size")),
    Field("tags", gettext_lazy("Tags (separated by commas)"), ("etiquetas", "tags")),
    Field("follow_up", gettext_lazy("Follow-up"), ("seguimiento", "follow-up", "follow up")),
    Field("payment_method", gettext_lazy("Payment method"),
          ("forma de pago", "metodo de pago", "payment method")),
    Field("payment_terms_days", gettext_lazy("Payment terms (days)"),
          ("dias de pago", "plazo de pago", "payment terms")),
    Field("currency", gettext_lazy("Currency"), ("moneda", "divisa", "currency")),
    Field("language", gettext_lazy("Language"), ("idioma", "language")),
    Field("annual_revenue", gettext_lazy("Estimated annual revenue"),
          ("facturacion anual", "facturacion", "annual revenue", "revenue")),
    Field("purchase_potential", gettext_lazy("Purchase potential"),
          ("potencial de compra", "potencial", "purchase potential")),
    Field("client_since", gettext_lazy("Client since"),
          ("cliente desde", "fecha de alta", "alta", "client since", "customer since")),
)  # fmt: skip
FIELD_KEYS = {f.key for f in FIELDS}
CUSTOM_PREFIX = "custom:"

ADDRESS_KEYS = ("street", "exterior_number", "interior_number", "neighbourhood", "municipality",
                "locality", "postal_code", "region", "country")  # fmt: skip
CONTACT_KEYS = ("contact_name", "contact_role", "contact_email", "contact_phone",
                "contact_birthday")  # fmt: skip
# Where a field's error lands in the validator's field paths.
CHANNEL_KEYS = ("phone", "mobile", "email", "billing_email", "website")


def fold_header(text: Any) -> str:
    return fold(str(text or "")).strip(" :*")


@cache
def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for field in FIELDS:
        for header in (field.key, *field.headers):
            index.setdefault(fold_header(header), field.key)
    return index


def field_choices() -> list[tuple[str, str]]:
    """(key, label) of every field a column can be, custom fields last."""
    choices = [(f.key, str(f.label)) for f in FIELDS]
    for custom in CustomField.objects.filter(is_active=True).order_by("position", "label"):
        choices.append((CUSTOM_PREFIX + custom.key, f"{custom.label} ({_('custom field')})"))
    return choices


def guess_mapping(headers: Iterable[Any], saved: Mapping[str, str] | None = None) -> dict[str, str]:
    """{column index: field} for the headers recognised (a saved template's first)."""
    index = _header_index()
    customs = {
        fold_header(c.label): CUSTOM_PREFIX + c.key
        for c in CustomField.objects.filter(is_active=True)
    }
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for i, header in enumerate(headers):
        folded = fold_header(header)
        key = (saved or {}).get(folded) or index.get(folded) or customs.get(folded)
        if key and key not in taken:
            mapping[str(i)] = key
            taken.add(key)
    if "first_name" in taken and not taken & {"legal_name", "last_name"}:
        # A lone "Nombre" column is the customer's name, not a first name.
        for column, key in mapping.items():
            if key == "first_name":
                mapping[column] = "legal_name"
    return mapping


# --- Cells to values ---------------------------------------------------------------------------


class CellError(ValueError):
    pass


# Cells of a column repeat the same few values (countries, provinces, stages, owners).
_fold = lru_cache(maxsize=8192)(fold)


def as_text(value: Any) -> str:
    """A cell as text: whole numbers without '.0', dates as dd/mm/yyyy."""
    if value.__class__ is str:  # every cell of a CSV file
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() else value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y", "%Y/%m/%d")
EXCEL_EPOCH = datetime.date(1899, 12, 30)


def as_date(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2_958_466:  # an Excel serial day number
            return EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise CellError(_("Enter a date as dd/mm/yyyy."))
    text = str(value).strip().split(" ")[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CellError(_("Enter a date as dd/mm/yyyy."))


_NUMBER = re.compile(r"^[+-]?[\d.,\s]+$")


def as_number(value: Any, decimal: str) -> Decimal | None:
    """A number written either way: 1.234,56 or 1,234.56 (``decimal`` breaks the tie)."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    text = str(value).strip().replace("€", "").replace("$", "").replace("\u00a0", "").strip()
    if not _NUMBER.match(text):
        raise CellError(_("Enter a number."))
    text = text.replace(" ", "")
    if "," in text and "." in text:
        mark = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        mark = (
            ","
            if decimal == "," or (text.count(",") == 1 and len(text.rsplit(",")[1]) != 3)
            else ""
        )
    elif "." in text:
        mark = (
            "."
            if decimal == "." or (text.count(".") == 1 and len(text.rsplit(".")[1]) != 3)
            else ""
        )
    else:
        mark = "."
    thousands = {",": ".", ".": ",", "": ".,"}[mark]
    for sep in thousands:
        text = text.replace(sep, "")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise CellError(_("Enter a number.")) from exc


TRUE = {"1", "si", "s", "x", "yes", "y", "true", "verdadero"}
FALSE = {"0", "no", "n", "false", "falso"}


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    folded = _fold(as_text(value))
    if folded in TRUE:
        return True
    if folded in FALSE or not folded:
        return False
    raise CellError(_("Write yes or no."))


@cache
def _choice_index(choices: type[models.TextChoices]) -> dict[str, str]:
    """Folded value and labels (English and Spanish) → value."""
    index = {fold(v): v for v in choices.values}
    for language in ("en", "es"):
        with translation.override(language):
            index.update({fold(str(label)): value for value, label in choices.choices})
    return index


EXTRA_CHOICES: dict[str, dict[str, str]] = {
    "kind": {"fisica": "person", "persona fisica": "person", "particular": "person",
             "juridica": "organization", "persona juridica": "organization",
             "empresa": "organization", "company": "organization", "person": "person"},
    "stage": {"potencial": "prospect", "abandonado": "former", "antiguo cliente": "former",
              "ex cliente": "former", "excliente": "former", "former client": "former"},
}  # fmt: skip


def as_choice(value: Any, choices: type[models.TextChoices], key: str) -> str:
    folded = _fold(as_text(value))
    if not folded:
        return ""
    found = _choice_index(choices).get(folded) or EXTRA_CHOICES.get(key, {}).get(folded)
    if found is None:
        raise CellError(_("“%(value)s” is not one of the choices.") % {"value": as_text(value)})
    return found


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for language in ("en", "es"):
        from cartera.core.countries import _translator

        tr = _translator("iso3166-1", language)
        for c in pycountry.countries:
            index[fold(tr.gettext(c.name))] = c.alpha_2
            index[fold(c.alpha_3)] = c.alpha_2
            index[fold(c.alpha_2)] = c.alpha_2
    index.update({"espana": "ES", "mexico": "MX", "usa": "US", "eeuu": "US", "peru": "PE"})
    return index


def as_country(value: Any) -> str:
    text = as_text(value)
    return _country_index().get(_fold(text), text.upper()) if text else ""


@cache
def _region_index(country: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for language in ("en", "es"):
        for code, name in subdivision_names(country, language):
            index[fold(name)] = code
            index[fold(code)] = code
            index[fold(code.split("-", 1)[1])] = code
            # "Alicante/Alacant", "Balears, Illes", "Barcelona [Barcelona]"
            for part in re.split(r"[/,\[\]]", name):
                if part.strip():
                    index.setdefault(fold(part), code)
    return index


def as_region(value: Any, country: str) -> str:
    text = as_text(value)
    if not text or not country:
        return text
    return _region_index(country.upper()).get(_fold(text), text)


# --- The register's lists, read once per run -----------------------------------------------------


class Lists:
    """Editable lists and users by every name a file may give them, read once."""

    def __init__(self) -> None:
        def by_name(rows: Iterable[Any], *attrs: str) -> dict[str, Any]:
            index: dict[str, Any] = {}
            for row in rows:
                for attr in attrs:
                    index.setdefault(fold(str(getattr(row, attr) or "")), row)
            return index

        self.fiscal_types = by_name(FiscalType.objects.filter(is_active=True), "code", "name")
        self.legal_forms: dict[tuple[str, str], LegalForm] = {}
        for form in LegalForm.objects.filter(is_active=True):
            for text in (form.code, form.name):
                self.legal_forms.setdefault((form.country, fold(text)), form)
        self.groups = by_name(CustomerGroup.objects.all(), "name")
        self.lead_sources = by_name(LeadSource.objects.filter(is_active=True), "name")
        self.sectors = by_name(Sector.objects.filter(is_active=True), "name")
        users = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
        self.users: dict[str, User] = {}
        for user in users:
            for text in (user.username, user.get_full_name(), user.first_name, user.email):
                if text:
                    self.users.setdefault(fold(text), user)
        self.custom_fields = {c.key: c for c in CustomField.objects.filter(is_active=True)}


def _option(value: Any, index: Mapping[str, Any], what: str) -> Any:
    text = as_text(value)
    if not text:
        return None
    found = index.get(_fold(text))
    if found is None:
        message = _("There is no %(what)s called “%(value)s”.")
        raise CellError(message % {"what": what, "value": text})
    return found


# --- One row to customer data ------------------------------------------------------------------


CONTACT_COLUMNS = {"first_name": "contact_name", "email": "contact_email",
                   "phone": "contact_phone", "mobile": "contact_phone",
                   "birthday": "contact_birthday"}  # fmt: skip


def column_for_path(path: str, present: set[str]) -> str:
    """The field (column) an error of the validator at ``path`` is about."""
    head, _dot, rest = path.partition(".")
    if head == "channels":
        return "channels"
    if head == "addresses":
        name = rest.partition(".")[2]
        return name if name in present else "street"
    if head == "contacts":
        name = rest.partition(".")[2]
        return CONTACT_COLUMNS.get(name, "contact_name")
    if head == "custom_data":
        return CUSTOM_PREFIX + rest
    if head == "tax_country" and head not in present and "country" in present:
        return "country"  # without a tax country column, the address's country is the tax one
    return head


class Converter:
    """Turns the cells of one row into the data ``validate_customer`` takes."""

    def __init__(self, mapping: Mapping[str, str], *, decimal: str, lists: Lists, by: User):
        self.columns = sorted(((int(i), key) for i, key in mapping.items()), key=lambda c: c[0])
        self.keys = {key for _i, key in self.columns}
        self.decimal = decimal
        self.lists = lists
        self.by = by
        from cartera.core.models import Company

        self.default_country = Company.load().default_country

    def convert(self, cells: list[Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """(data, {field key: error}) of one row; cells past the row's end are empty."""
        raw: dict[str, Any] = {}
        for index, key in self.columns:
            value = cells[index] if index < len(cells) else None
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                raw[key] = value
        errors: dict[str, str] = {}
        data: dict[str, Any] = {}
        for key, value in raw.items():
            try:
                self._put(data, key, value, raw)
            except CellError as exc:
                errors[key] = str(exc)
        self._finish(data, raw)
        if "legal_form" in data:
            try:
                data["legal_form"] = self._legal_form(data)
            except CellError as exc:
                errors["legal_form"] = str(exc)
                del data["legal_form"]
        return data, errors

    def _legal_form(self, data: dict[str, Any]) -> LegalForm:
        """The legal form the text names, among the forms of the row's country (its tax id's,
        else its address's) and those of no country."""
        text = data["legal_form"]
        address = data["addresses"][0] if data["addresses"] else {}
        country = data.get("tax_country") or address.get("country") or self.default_country
        forms, folded = self.lists.legal_forms, _fold(text)
        found = forms.get((str(country).upper(), folded)) or forms.get(("", folded))
        if found is None:
            raise CellError(_("There is no legal form called “%(value)s”.") % {"value": text})
        return found

    def _put(self, data: dict[str, Any], key: str, value: Any, raw: Mapping[str, Any]) -> None:
        lists = self.lists
        if key in ("legal_name", "trade_name", "first_name", "last_name", "notes", "tax_id",
                   "status_reason", "loss_detail"):  # fmt: skip
            data[key] = as_text(value)
        elif key == "kind":
            data[key] = as_choice(value, Kind, key)
        elif key == "stage":
            data[key] = as_choice(value, Stage, key)
        elif key == "status":
            data[key] = as_choice(value, Status, key)
        elif key == "loss_reason":
            data[key] = as_choice(value, LossReason, key)
        elif key == "payment_method":
            data[key] = as_choice(value, PaymentMethod, key)
        elif key == "size":
            data[key] = as_choice(value, CompanySize, key)
        elif key == "tax_country":
            data[key] = as_country(value)
        elif key == "fiscal_type":
            data[key] = _option(value, lists.fiscal_types, _("fiscal type"))
        elif key == "group":
            data[key] = _option(value, lists.groups, _("group"))
        elif key == "lead_source":
            data[key] = _option(value, lists.lead_sources, _("lead source"))
        elif key == "sector":
            data[key] = _option(value, lists.sectors, _("sector"))
        elif key == "owner":
            data[key] = _option(value, lists.users, _("active user"))
        elif key == "follow_up":
            data[key] = as_bool(value)
        elif key == "tags":
            data[key] = [t for t in re.split(r"[,;|]", as_text(value)) if t.strip()]
        elif key in ("annual_revenue", "purchase_potential"):
            data[key] = as_number(value, self.decimal)
        elif key == "payment_terms_days":
            number = as_number(value, self.decimal)
            data[key] = int(number) if number is not None and number == int(number) else value
        elif key in ("currency", "language"):
            data[key] = as_text(value).upper() if key == "currency" else as_text(value).lower()
        elif key == "client_since" or key == "contact_birthday":
            data[key] = as_date(value)
        elif key.startswith(CUSTOM_PREFIX):
            self._custom(data, key.removeprefix(CUSTOM_PREFIX), value)
        else:
            data[key] = as_text(value)

    def _custom(self, data: dict[str, Any], key: str, value: Any) -> None:
        definition = self.lists.custom_fields.get(key)
        if definition is not None and definition.field_type == "date":
            value = as_date(value)
        elif definition is not None and definition.field_type == "number":
            value = as_number(value, self.decimal)
        data.setdefault("custom_data", {})[key] = value

    def _finish(self, data: dict[str, Any], raw: Mapping[str, Any]) -> None:
        """Group the flat columns into channels, the fiscal address and a contact."""
        channels = []
        for key, kind, label in (("phone", "phone", ""), ("mobile", "phone", "mobile"),
                                 ("email", "email", "general"),
                                 ("billing_email", "email", "billing"),
                                 ("website", "website", "")):  # fmt: skip
            value = data.pop(key, "")
            if value:  # "source" is not a channel field: the validator leaves it out
                channels.append({"type": kind, "label": label, "value": value, "source": key})
        if channels:
            channels[0]["is_primary"] = True
        data["channels"] = channels
        address = {k: data.pop(k) for k in ADDRESS_KEYS if k in data}
        if address:
            country = as_country(address.get("country", "")) or data.get("tax_country", "")
            if not country:
                country = self.default_country
            address["country"] = country
            postal = raw.get("postal_code")
            if isinstance(postal, int | float) and country in ("ES", "MX", "IT", "FR", "DE"):
                address["postal_code"] = as_text(postal).zfill(5)  # a number lost its zero
            if "region" in address:
                address["region"] = as_region(address["region"], country)
            address["type"] = "fiscal"
            data["addresses"] = [address]
        else:
            data["addresses"] = []
        if data.get("tax_id") and not data.get("tax_country"):
            data["tax_country"] = address.get("country") or self.default_country
        contact = {k: data.pop(k) for k in CONTACT_KEYS if k in data}
        if contact:
            first, _sp, last = str(contact.get("contact_name", "")).partition(" ")
            birthday = contact.get("contact_birthday")
            data["contacts"] = [{
                "first_name": first, "last_name": last, "role": contact.get("contact_role", ""),
                "email": contact.get("contact_email", ""),
                "phone": contact.get("contact_phone", ""),
                "birthday": birthday.isoformat() if birthday else None, "is_primary": True,
            }]  # fmt: skip
        if "owner" not in data:
            data["owner"] = self.by
        if not data.get("kind") and not data.get("tax_id"):
            # Without a tax id to tell, a first name or surname without a legal name says
            # "person"; the validator infers the kind from a tax id otherwise.
            person = (data.get("first_name") or data.get("last_name")) and "legal_name" not in data
            data["kind"] = Kind.PERSON if person else Kind.ORGANIZATION
