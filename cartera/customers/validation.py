"""One definition of a valid customer, used by forms, the API, imports and the demo loader.

``validate_customer`` takes plain data (model field names; foreign keys as model
instances; ``channels``, ``addresses`` and ``contacts`` as lists of dicts) and
returns it normalised, or raises ``CustomerInvalid`` whose error keys are field
paths: ``tax_id``, ``channels.0.value``, ``addresses.1.postal_code``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models
from django.utils.translation import gettext as _

from cartera.core.countries import CURRENCY_CODES, is_country, is_region_of
from cartera.core.phones import PhoneError, normalize_phone, read_phone
from cartera.core.postal import normalize_postal_code, postal_code_error, region_for_postal_code
from cartera.customers.fiscal import TAX_ID_TYPES, check_tax_id
from cartera.customers.models import (
    Address,
    AddressType,
    ChannelLabel,
    ChannelType,
    CompanySize,
    Contact,
    ContactChannel,
    Customer,
    CustomField,
    CustomFieldType,
    FiscalType,
    Kind,
    LegalForm,
    LossReason,
    PaymentMethod,
    Stage,
    Status,
)

SCALAR_FIELDS = (
    "kind", "fiscal_type", "legal_name", "trade_name", "first_name", "last_name",
    "legal_form", "tax_id", "tax_country", "stage", "status", "status_reason",
    "loss_reason", "loss_detail", "group", "follow_up", "owner", "notes",
    "payment_method", "payment_terms_days", "currency", "language", "lead_source",
    "sector", "size", "annual_revenue", "purchase_potential", "reviewed_at", "code",
)  # fmt: skip

CHANNEL_FIELDS = ("id", "type", "label", "value", "is_primary")
ADDRESS_FIELDS = (
    "id", "type", "street", "exterior_number", "interior_number", "neighbourhood",
    "municipality", "locality", "postal_code", "region", "country",
)  # fmt: skip
CONTACT_FIELDS = (
    "id", "first_name", "last_name", "role", "email", "phone", "mobile", "birthday", "notes",
    "is_primary",
)  # fmt: skip

# The fiscal type a legal form implies (the legal form itself comes from the tax id).
LEGAL_FORM_FISCAL_TYPE = {
    "SA": "sociedad_mercantil", "SL": "sociedad_mercantil", "SLU": "sociedad_mercantil",
    "SAU": "sociedad_mercantil", "SLL": "sociedad_mercantil", "SC": "sociedad_mercantil",
    "SCom": "sociedad_mercantil", "UTE": "sociedad_mercantil", "COOP": "cooperativa",
    "ASOC": "asociacion_fundacion", "CB": "comunidad_bienes", "CP": "comunidad_propietarios",
    "AL": "administracion_publica", "OP": "administracion_publica",
    "AE": "administracion_publica",
}  # fmt: skip

# Rule 1 of the design: lead -> prospect -> client -> former; lead/prospect -> lost;
# lost/former -> lead/prospect/client to win the customer back. A lead may become a client
# at once when it buys straight away.
STAGE_TRANSITIONS: dict[str, set[str]] = {
    Stage.LEAD: {Stage.PROSPECT, Stage.CLIENT, Stage.LOST},
    Stage.PROSPECT: {Stage.CLIENT, Stage.LOST},
    Stage.CLIENT: {Stage.FORMER},
    Stage.FORMER: {Stage.LEAD, Stage.PROSPECT, Stage.CLIENT},
    Stage.LOST: {Stage.LEAD, Stage.PROSPECT, Stage.CLIENT},
}

# Countries where a fiscal address is not complete without a postal code.
POSTAL_CODE_REQUIRED = frozenset({"ES", "MX", "PT", "BR", "US", "AR", "FR", "DE", "IT"})

_CHOICES: dict[str, set[str]] = {
    "kind": set(Kind.values),
    "stage": set(Stage.values),
    "status": set(Status.values),
    "loss_reason": set(LossReason.values),
    "payment_method": set(PaymentMethod.values),
    "size": set(CompanySize.values),
    "language": {"es", "en", "pt", "ca", "eu", "gl", "fr", "de", "it"},
    "currency": set(CURRENCY_CODES),
}
# ``Choices.values`` builds a new list on every access; these are read for every channel.
_CHANNEL_TYPES = frozenset(ChannelType.values)
_CHANNEL_LABELS = frozenset(ChannelLabel.values)
_ADDRESS_TYPES = frozenset(AddressType.values)
_WEB_ADDRESS = URLValidator(schemes=["http", "https"])


class CustomerInvalid(ValidationError):
    """Validation failed; ``duplicate`` is the customer that already holds the tax id."""

    def __init__(self, errors: dict[str, list[str]], duplicate: Customer | None = None):
        super().__init__({key: [ValidationError(m) for m in msgs] for key, msgs in errors.items()})
        self.duplicate = duplicate
        self.messages_by_field = errors


class Lookups:
    """Where the rules read the register. Each call asks the database; an import passes one
    that answers a whole batch of rows from what it read in a few set-based queries."""

    def legal_form(self, country: str, code: str) -> LegalForm | None:
        return LegalForm.objects.filter(country=country, code=code, is_active=True).first()

    def fiscal_type(self, code: str) -> FiscalType | None:
        return FiscalType.objects.filter(code=code, is_active=True).first()

    def tax_id_holder(self, country: str, compact: str, *, exclude: int | None) -> Customer | None:
        """The customer that already has this tax id in this country, if any."""
        others = Customer.objects.filter(tax_country=country, tax_id=compact)
        if exclude is not None:
            others = others.exclude(pk=exclude)
        return others.only("id", "code", "legal_name", "trade_name").first()

    def custom_fields(self) -> dict[str, CustomField]:
        return {f.key: f for f in CustomField.objects.filter(is_active=True)}

    def default_country(self) -> str:
        from cartera.core.models import Company

        return Company.load().default_country


DATABASE = Lookups()


@dataclass
class CleanCustomer:
    fields: dict[str, Any]
    tags: list[str] | None = None
    channels: list[dict[str, Any]] | None = None
    addresses: list[dict[str, Any]] | None = None
    contacts: list[dict[str, Any]] | None = None
    custom_data: dict[str, Any] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    duplicate: Customer | None = None

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def missing_for_invoice(
    *,
    kind: str,
    fiscal_type: object,
    legal_name: str,
    tax_id: str,
    fiscal_address: Mapping[str, Any] | None,
) -> list[str]:
    """Field paths still needed before a customer can be invoiced (empty when invoiceable)."""
    given = {"kind": kind, "fiscal_type": fiscal_type, "legal_name": legal_name, "tax_id": tax_id}
    missing = [name for name, value in given.items() if not value]
    if fiscal_address is None:
        missing.append("fiscal_address")
    else:
        needed = ["street", "municipality", "country"]
        if fiscal_address.get("country") in POSTAL_CODE_REQUIRED:
            needed.append("postal_code")
        if any(not fiscal_address.get(name) for name in needed):
            missing.append("fiscal_address")
    return missing


def address_as_dict(address: object) -> dict[str, Any]:
    return {name: getattr(address, name, "") for name in ADDRESS_FIELDS}


def validate_customer(
    data: Mapping[str, Any], *, instance: Customer | None, lookups: Lookups = DATABASE
) -> CleanCustomer:
    """Normalise and check customer data against everything the register requires."""
    clean = CleanCustomer(fields={k: data[k] for k in SCALAR_FIELDS if k in data})
    fields = clean.fields
    for path in _paths_with_nul(data):
        clean.error(path, _("Remove the control characters from this text."))
    if clean.errors:
        raise CustomerInvalid(clean.errors)
    for key, value in list(fields.items()):
        if isinstance(value, str):
            fields[key] = value.strip()

    def current(name: str, default: Any = "") -> Any:
        if name in fields:
            return fields[name]
        return getattr(instance, name, default) if instance is not None else default

    for name, allowed in _CHOICES.items():
        value = fields.get(name)
        if value and value not in allowed:
            clean.error(name, _("Select a valid choice."))
    for name in ("annual_revenue", "purchase_potential"):
        _clean_decimal(clean, name)
    if fields.get("payment_terms_days") is not None:
        try:
            days = int(fields["payment_terms_days"])
            if not 0 <= days <= 365:
                raise ValueError
            fields["payment_terms_days"] = days
        except (TypeError, ValueError):
            clean.error("payment_terms_days", _("Enter a whole number of days from 0 to 365."))

    _clean_tax_id(clean, current, instance, lookups)
    _clean_names(clean, current)

    fiscal_type = current("fiscal_type", None)
    kind = current("kind")
    if fiscal_type is not None and fiscal_type.kind and kind and fiscal_type.kind != kind:
        clean.error(
            "fiscal_type",
            _("“%(type)s” is for another kind of customer.") % {"type": fiscal_type.name},
        )
    if current("status") == Status.SUSPENDED and not current("status_reason"):
        clean.error("status_reason", _("Say why the customer is suspended."))

    region = country_hint(data, current("tax_country"), lookups)
    if "channels" in data:
        clean.channels = [
            _clean_channel(clean, i, item, region) for i, item in enumerate(data["channels"])
        ]
    if "addresses" in data:
        clean.addresses = [
            _clean_address(clean, i, item) for i, item in enumerate(data["addresses"])
        ]
        fiscal = [a for a in clean.addresses if a.get("type") == AddressType.FISCAL]
        if len(fiscal) > 1:
            clean.error("addresses", _("A customer has only one fiscal address."))
    if "contacts" in data:
        clean.contacts = [
            _clean_contact(clean, i, item, region) for i, item in enumerate(data["contacts"])
        ]
    if "tags" in data:
        clean.tags = sorted({_text(t)[:50] for t in data["tags"] or [] if _text(t)})
    if "custom_data" in data or instance is None:
        clean.custom_data = _clean_custom_data(clean, data.get("custom_data") or {}, lookups)
    stage = fields.get("stage")
    if (
        instance is not None
        and stage in Stage.values
        and stage != instance.stage
        and stage not in STAGE_TRANSITIONS.get(instance.stage, set())
    ):
        clean.error(
            "stage",
            _("A customer cannot go from “%(old)s” to “%(new)s”.")
            % {"old": Stage(instance.stage).label, "new": Stage(stage).label},
        )

    _check_stage_requirements(clean, current, instance)
    _check_lengths(clean)
    if clean.errors:
        raise CustomerInvalid(clean.errors, duplicate=clean.duplicate)
    return clean


@cache
def _max_lengths(model: type[models.Model]) -> dict[str, int]:
    """The longest text each of the model's text columns holds."""
    return {f.name: f.max_length for f in model._meta.concrete_fields
            if isinstance(f, models.CharField) and f.max_length}  # fmt: skip


def _check_lengths(clean: CleanCustomer) -> None:
    """Texts longer than their column, wherever they come from (a form, the API, a file)."""
    parts: list[tuple[str, Mapping[str, Any], type[models.Model]]] = [("", clean.fields, Customer)]
    related: list[tuple[str, type[models.Model]]] = [
        ("channels", ContactChannel), ("addresses", Address), ("contacts", Contact)
    ]  # fmt: skip
    for name, model in related:
        parts += [
            (f"{name}.{i}.", item, model) for i, item in enumerate(getattr(clean, name) or [])
        ]
    for prefix, values, model in parts:
        limits = _max_lengths(model)
        for name, value in values.items():
            limit = limits.get(name)
            if limit is None or not isinstance(value, str) or len(value) <= limit:
                continue
            if prefix + name not in clean.errors:  # refused already: one message is enough
                clean.error(
                    prefix + name,
                    _("Write at most %(limit)s characters (this has %(count)s).")
                    % {"limit": limit, "count": len(value)},
                )


def _has_nul(value: Any) -> bool:
    """Whether any text in the data holds a NUL character (the common answer is no)."""
    kind = value.__class__
    if kind is dict:  # the usual containers first: ``isinstance`` with ABCs costs more
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif isinstance(value, str):
        return "\x00" in value
    elif isinstance(value, Mapping):
        items = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return False
    for item in items:
        kind = item.__class__
        if kind is str:
            if "\x00" in item:
                return True
        elif item is None or kind is int or kind is bool:
            continue
        elif _has_nul(item):
            return True
    return False


def _paths_with_nul(value: Any, path: str = "") -> list[str]:
    """Field paths whose text holds a NUL character (no database stores it faithfully)."""
    if not path and not _has_nul(value):
        return []  # the paths are only spelled out when there is one to report
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, Mapping):
        found = []
        for key, item in value.items():
            found += _paths_with_nul(item, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list | tuple):
        found = []
        for i, item in enumerate(value):
            found += _paths_with_nul(item, f"{path}.{i}" if path else str(i))
        return found
    return []


def _clean_decimal(clean: CleanCustomer, name: str) -> None:
    value = clean.fields.get(name)
    if value in (None, ""):
        if name in clean.fields:
            clean.fields[name] = None
        return
    try:
        number = Decimal(str(value).replace(",", ".")) if isinstance(value, str) else Decimal(value)
        if number < 0 or number >= Decimal("1e14"):
            raise InvalidOperation
        clean.fields[name] = number.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        clean.error(name, _("Enter a positive amount."))


def _clean_tax_id(
    clean: CleanCustomer, current: Any, instance: Customer | None, lookups: Lookups
) -> None:
    fields = clean.fields
    if "tax_id" not in fields and "tax_country" not in fields:
        return
    value = _text(current("tax_id"))
    country = _text(current("tax_country")).upper()
    if country and not is_country(country):
        clean.error("tax_country", _("Select a valid country."))
        return
    if not value:
        fields.update(tax_id="", tax_id_type="")
        return
    result = check_tax_id(value, country or None)
    if not result.valid:
        clean.error("tax_id", result.reason)
        return
    fields.update(tax_id=result.compact, tax_country=result.country, tax_id_type=result.tax_id_type)
    label = TAX_ID_TYPES[result.tax_id_type].label if result.tax_id_type in TAX_ID_TYPES else ""
    kind = current("kind")
    if not kind and result.kind:
        fields["kind"] = result.kind
    elif kind and result.kind and kind != result.kind:
        message = (
            _("A %(label)s identifies a person, not an organisation.")
            if result.kind == Kind.PERSON
            else _("A %(label)s identifies an organisation, not a person.")
        )
        clean.error("tax_id", message % {"label": label})
    if result.legal_form and current("legal_form", None) is None:
        fields["legal_form"] = lookups.legal_form(result.country, result.legal_form)
    if current("fiscal_type", None) is None and result.legal_form in LEGAL_FORM_FISCAL_TYPE:
        fields["fiscal_type"] = lookups.fiscal_type(LEGAL_FORM_FISCAL_TYPE[result.legal_form])
    duplicate = lookups.tax_id_holder(
        result.country, result.compact, exclude=instance.pk if instance is not None else None
    )
    if duplicate is not None:
        clean.duplicate = duplicate
        clean.error(
            "tax_id",
            # the code only: the user may not be allowed to see that customer
            _("This tax id already belongs to customer %(code)s.") % {"code": duplicate.code},
        )


def _clean_names(clean: CleanCustomer, current: Any) -> None:
    if current("kind") == Kind.PERSON and not current("legal_name"):
        full = " ".join(p for p in [current("first_name"), current("last_name")] if p)
        if full:  # as long as the column holds: the two names may be longer together
            clean.fields["legal_name"] = full[: Customer._meta.get_field("legal_name").max_length]
    if not current("legal_name"):
        clean.error("legal_name", _("This field is required."))
    # A valid tax id gives the kind (a DNI a person, a CIF an organisation): while the tax id
    # is refused, its error alone says what to mend.
    if not current("kind") and not ("tax_id" in clean.errors or "tax_country" in clean.errors):
        clean.error("kind", _("This field is required."))


def country_hint(data: Mapping[str, Any], tax_country: Any, lookups: Lookups = DATABASE) -> str:
    """The country a phone without prefix most likely belongs to: the address's, the tax
    id's, else the company's."""
    for address in data.get("addresses") or []:
        if isinstance(address, Mapping) and address.get("country"):
            return _text(address["country"]).upper()
    return _text(tax_country).upper() or lookups.default_country()


def _phone(clean: CleanCustomer, key: str, value: str, region: str) -> str:
    try:
        return normalize_phone(value, region)
    except PhoneError as exc:
        clean.error(key, str(exc))
        return value


def _email(clean: CleanCustomer, key: str, value: str) -> str:
    value = value.strip()
    local, _at, domain = value.rpartition("@")
    value = f"{local}@{domain.lower()}" if local else value
    try:
        validate_email(value)
    except ValidationError:
        clean.error(key, _("Enter a valid e-mail address."))
    return value


def _clean_channel(clean: CleanCustomer, i: int, item: Mapping[str, Any], region: str) -> dict:
    out = {k: item[k] for k in CHANNEL_FIELDS if k in item}
    kind, value = _text(item.get("type")), _text(item.get("value"))
    label = _text(item.get("label"))
    key = f"channels.{i}"
    if kind not in _CHANNEL_TYPES:
        clean.error(f"{key}.type", _("Select a valid choice."))
    if label and label not in _CHANNEL_LABELS:
        clean.error(f"{key}.label", _("Select a valid choice."))
    if not value:
        clean.error(f"{key}.value", _("This field is required."))
    elif kind == ChannelType.PHONE and label:
        value = _phone(clean, f"{key}.value", value, region)
    elif kind == ChannelType.PHONE:  # the label follows from the number, read once for both
        try:
            value, mobile = read_phone(value, region)
        except PhoneError as exc:
            clean.error(f"{key}.value", str(exc))  # the row is refused: its label matters not
            mobile = None
        label = "" if mobile is None else (ChannelLabel.MOBILE if mobile else ChannelLabel.LANDLINE)
    elif kind == ChannelType.EMAIL:
        value = _email(clean, f"{key}.value", value)
    elif kind == ChannelType.WEBSITE or (kind == ChannelType.SOCIAL and value[:1] != "@"):
        if "://" not in value:
            value = "https://" + value
        try:
            _WEB_ADDRESS(value)
        except ValidationError:
            clean.error(f"{key}.value", _("Enter a valid web address."))
    out.update(type=kind, label=label, value=value, is_primary=bool(item.get("is_primary")))
    return out


def _clean_address(clean: CleanCustomer, i: int, item: Mapping[str, Any]) -> dict:
    out = {k: _text(item.get(k)) for k in ADDRESS_FIELDS if k != "id"}
    if item.get("id"):
        out["id"] = item["id"]
    key = f"addresses.{i}"
    out["type"] = out["type"] or AddressType.FISCAL
    if out["type"] not in _ADDRESS_TYPES:
        clean.error(f"{key}.type", _("Select a valid choice."))
    country = out["country"] = out["country"].upper()
    if not country:
        clean.error(f"{key}.country", _("This field is required."))
        return out
    if not is_country(country):
        clean.error(f"{key}.country", _("Select a valid country."))
        return out
    postal = out["postal_code"] = normalize_postal_code(out["postal_code"])
    if error := postal_code_error(postal, country):
        clean.error(f"{key}.postal_code", error)
    implied = region_for_postal_code(postal, country)
    region = out["region"] = out["region"].upper()
    if not region and implied:
        out["region"] = implied
    elif region and not is_region_of(region, country):
        clean.error(f"{key}.region", _("This region is not in the chosen country."))
    elif region and implied and region != implied:
        clean.error(f"{key}.postal_code", _("This postal code belongs to another province."))
    return out


def _clean_contact(clean: CleanCustomer, i: int, item: Mapping[str, Any], region: str) -> dict:
    out: dict[str, Any] = {k: _text(item.get(k)) for k in CONTACT_FIELDS if k != "id"}
    if item.get("id"):
        out["id"] = item["id"]
    out["is_primary"] = bool(item.get("is_primary"))
    key = f"contacts.{i}"
    if not out["first_name"] and not out["last_name"]:
        clean.error(f"{key}.first_name", _("Enter the contact's name."))
    if out["email"]:
        out["email"] = _email(clean, f"{key}.email", out["email"])
    for name in ("phone", "mobile"):
        if out[name]:
            out[name] = _phone(clean, f"{key}.{name}", out[name], region)
    birthday = item.get("birthday")
    if isinstance(birthday, str) and birthday:
        try:
            birthday = datetime.date.fromisoformat(birthday)
        except ValueError:
            clean.error(f"{key}.birthday", _("Enter a valid date."))
            birthday = None
    out["birthday"] = birthday or None
    return out


def _clean_custom_data(
    clean: CleanCustomer, data: Mapping[str, Any], lookups: Lookups
) -> dict[str, Any]:
    fields = lookups.custom_fields()
    out: dict[str, Any] = {}
    for key in data:
        if key not in fields:
            clean.error(f"custom_data.{key}", _("There is no custom field with this key."))
    for key, definition in fields.items():
        value = data.get(key)
        path = f"custom_data.{key}"
        if value in (None, ""):
            if definition.required:
                clean.error(path, _("This field is required."))
            continue
        try:
            out[key] = _custom_value(definition, value)
        except (ValueError, TypeError, InvalidOperation):
            number = definition.field_type == CustomFieldType.NUMBER
            clean.error(path, _(
                "Enter a number of at most 15 digits before the decimal point and 30 in all."
            ) if number else _("Enter a valid value."))  # fmt: skip
    return out


def _custom_value(definition: CustomField, value: Any) -> Any:
    kind = definition.field_type
    if kind == CustomFieldType.NUMBER:
        number = Decimal(str(value).replace(",", "."))
        # within what a spreadsheet and a report can show: up to 10^15, 30 digits
        if not number.is_finite() or len(number.as_tuple().digits) > 30:
            raise ValueError
        if number and not -15 <= number.adjusted() < 15:
            raise ValueError
        return str(number)
    if kind == CustomFieldType.DATE:
        if isinstance(value, datetime.date):
            return value.isoformat()
        return datetime.date.fromisoformat(str(value)).isoformat()
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"1", "true", "yes", "sí", "si", "on"}:
            return True
        if str(value).lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError
    if kind == CustomFieldType.CHOICE:
        if str(value) not in definition.choice_list:
            raise ValueError
        return str(value)
    return str(value).strip()[:500]


def _check_stage_requirements(
    clean: CleanCustomer, current: Any, instance: Customer | None
) -> None:
    """A client must be invoiceable; a lead or prospect needs a name and one way to reach it."""
    if clean.errors:
        return
    stage = current("stage") or Stage.LEAD
    if stage == Stage.CLIENT:
        if clean.addresses is not None:
            fiscal = next((a for a in clean.addresses if a["type"] == AddressType.FISCAL), None)
        elif instance is not None:
            found = instance.addresses.filter(type=AddressType.FISCAL).first()
            fiscal = address_as_dict(found) if found else None
        else:
            fiscal = None
        missing = missing_for_invoice(
            kind=current("kind"),
            fiscal_type=current("fiscal_type", None),
            legal_name=current("legal_name"),
            tax_id=current("tax_id"),
            fiscal_address=fiscal,
        )
        for name in missing:
            if name == "fiscal_address":
                clean.error(
                    "addresses",
                    _(
                        "A client needs a complete fiscal address "
                        "(street, postal code, municipality and country)."
                    ),
                )
            else:
                clean.error(name, _("A client needs this to be invoiced."))
    elif stage in (Stage.LOST, Stage.FORMER) and (instance is None or instance.stage != stage):
        if not current("loss_reason"):
            clean.error("loss_reason", _("Say why the customer was lost."))
        elif current("loss_reason") == LossReason.COMPETITOR and not current("loss_detail"):
            clean.error("loss_detail", _("Name the competitor the customer went to."))
    if stage in (Stage.LEAD, Stage.PROSPECT):
        if clean.channels is not None:
            has_channel = bool(clean.channels)
        else:
            has_channel = instance is not None and instance.channels.exists()
        if clean.contacts is not None:
            has_channel = has_channel or any(
                c["email"] or c["phone"] or c["mobile"] for c in clean.contacts
            )
        if not has_channel and not current("tax_id"):
            clean.error("channels", _("Add at least one phone, e-mail or other way to reach them."))
