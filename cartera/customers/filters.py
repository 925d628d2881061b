"""Search, filters and sorting of the customer list: one definition for the UI and the API."""

from __future__ import annotations

from typing import Any, Protocol

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import User
from cartera.core.countries import country_choices
from cartera.core.forms import set_choices
from cartera.customers.models import (
    Activity,
    Address,
    AddressType,
    CompanySize,
    Customer,
    CustomerGroup,
    CustomerQuerySet,
    CustomField,
    CustomFieldType,
    FiscalType,
    Kind,
    Sector,
    Stage,
    Status,
    Tag,
)


class FilterExtension(Protocol):
    """A filter contributed by another app (e.g. consent, from privacy)."""

    def add_fields(self, form: forms.Form) -> None: ...

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet: ...


_EXTENSIONS: list[FilterExtension] = []


def register_filter(extension: FilterExtension) -> None:
    _EXTENSIONS.append(extension)


SORTS = {
    "name": ("sort_name", "id"),
    "-name": ("-sort_name", "-id"),
    "code": ("code",),
    "-code": ("-code",),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


class TagsField(forms.ModelMultipleChoiceField):
    """Several tags by name; a single value (``?tag=vip`` or the API's text) is one tag."""

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            value = [value] if value else []
        return list(super().clean(value))


class YesNoField(forms.NullBooleanField):
    """Yes, no, or any when empty; anything else is refused rather than read as any."""

    widget = forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        answer = super().to_python(value)
        if answer is None:
            raise forms.ValidationError(_("Choose yes or no."), code="invalid")
        return answer


class CustomerFilter(forms.Form):
    """Reads the list's state from a URL query string and applies it to a queryset."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("All stages")), *Stage.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices]
    )
    group = forms.ModelChoiceField(
        label=_("Group"), required=False, queryset=CustomerGroup.objects.all(),
        empty_label=_("All groups"),
    )  # fmt: skip
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.filter(is_active=True),
        empty_label=_("All owners"),
    )  # fmt: skip
    country = forms.ChoiceField(label=_("Country"), required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=8)
    follow_up = YesNoField(label=_("Follow-up"), required=False)
    tag = TagsField(
        label=_("Tags (any of)"), required=False, queryset=Tag.objects.all(), to_field_name="name",
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )  # fmt: skip
    municipality = forms.CharField(label=_("Municipality"), required=False, max_length=120)
    postal_code_from = forms.CharField(label=_("Postal code from"), required=False, max_length=16)
    postal_code_to = forms.CharField(label=_("Postal code to"), required=False, max_length=16)
    address_type = forms.ChoiceField(
        label=_("Municipality and postal code on"),
        required=False,
        choices=[("", _("Any address")), (AddressType.FISCAL, _("The fiscal address"))],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Kind.choices]
    )
    fiscal_type = forms.ModelChoiceField(
        label=_("Fiscal type"), required=False, queryset=FiscalType.objects.all(),
        empty_label=_("Any fiscal type"),
    )  # fmt: skip
    sector = forms.ModelChoiceField(
        label=_("Sector"), required=False, queryset=Sector.objects.all(),
        empty_label=_("Any sector"),
    )  # fmt: skip
    size = forms.ChoiceField(
        label=_("Size"), required=False, choices=[("", _("Any size")), *CompanySize.choices]
    )
    activity = forms.ChoiceField(
        label=_("Purchase activity"),
        required=False,
        choices=[("", _("Any purchase activity")), *Activity.choices],
    )
    archived = forms.BooleanField(label=_("Archived"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name (A–Z)")),
            ("-name", _("Name (Z–A)")),
            ("code", _("Code")),
            ("-code", _("Code, last first")),
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-updated", _("Recently changed")),
            ("updated", _("Longest unchanged")),
        ],
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        # Who the list is for: extensions offer only what that user may see (their lists...).
        self.user = user
        super().__init__(*args, **kwargs)
        set_choices(self, "country", [("", _("All countries")), *country_choices()])
        for extension in _EXTENSIONS:
            extension.add_fields(self)
        self.custom_fields = list(CustomField.objects.filter(is_active=True))
        for definition in self.custom_fields:
            name = f"cf_{definition.key}"
            if definition.field_type == CustomFieldType.CHOICE:
                choices = [("", _("Any")), *((c, c) for c in definition.choice_list)]
                self.fields[name] = forms.ChoiceField(
                    label=definition.label, required=False, choices=choices
                )
            elif definition.field_type == CustomFieldType.BOOLEAN:
                self.fields[name] = YesNoField(label=definition.label, required=False)
            else:
                self.fields[name] = forms.CharField(
                    label=definition.label, required=False, max_length=100
                )

    def apply(self, queryset: CustomerQuerySet) -> CustomerQuerySet:
        """The queryset narrowed by the valid filters; invalid ones are ignored and reported."""
        data = self.cleaned_data if self.is_valid() else self._valid_part()
        qs = queryset.archived() if data.get("archived") else queryset.current()
        if data.get("q"):
            qs = qs.search(data["q"])
        for name in ("stage", "status"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if data.get("group"):
            qs = qs.filter(group=data["group"])
        if data.get("owner"):
            qs = qs.filter(owner=data["owner"])
        if data.get("follow_up") is not None:
            qs = qs.filter(follow_up=data["follow_up"])
        if data.get("tag"):
            tagged = Customer.tags.through.objects.filter(
                customer_id=OuterRef("pk"), tag__in=list(data["tag"])
            )
            qs = qs.filter(Exists(tagged))
        for name in ("kind", "size"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if data.get("activity"):
            qs = qs.with_activity(data["activity"])
        for name in ("fiscal_type", "sector"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        if data.get("country") or data.get("region"):
            addresses = Address.objects.filter(customer=OuterRef("pk"))
            if data.get("country"):
                addresses = addresses.filter(country=data["country"])
            if data.get("region"):
                addresses = addresses.filter(region=data["region"].upper())
            qs = qs.filter(Exists(addresses))
        qs = _by_town_and_postal_code(qs, data)
        for extension in _EXTENSIONS:
            qs = extension.apply(qs, data)
        for definition in self.custom_fields:
            value = data.get(f"cf_{definition.key}")
            if value is None or value == "":
                continue
            qs = qs.filter(**{f"custom_data__{definition.key}": value})
        return qs.order_by(*SORTS.get(data.get("sort") or "name", SORTS["name"]))

    def _valid_part(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in self.errors}

    @property
    def active_count(self) -> int:
        if not self.is_valid():
            return 0
        return sum(
            1
            for name, value in self.cleaned_data.items()
            if name not in ("q", "sort") and value not in (None, "", False, [])
        )


def _by_town_and_postal_code(qs: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
    """Customers with an address (or their fiscal one) in a municipality or postal code range."""
    town = (data.get("municipality") or "").strip()
    low = (data.get("postal_code_from") or "").strip().upper()
    high = (data.get("postal_code_to") or "").strip().upper()
    if not (town or low or high):
        return qs
    addresses = Address.objects.filter(customer=OuterRef("pk"))
    if data.get("address_type"):
        addresses = addresses.filter(type=data["address_type"])
    if town:
        addresses = addresses.filter(municipality__iexact=town)
    # Postal codes of one country have one length, so text order is numeric order.
    if low:
        addresses = addresses.filter(postal_code__gte=low)
    if high:
        addresses = addresses.filter(postal_code__lte=high)
    return qs.filter(Exists(addresses))


def filter_customers(
    queryset: CustomerQuerySet, params: Any
) -> tuple[CustomerQuerySet, CustomerFilter]:
    form = CustomerFilter(data=params)
    return form.apply(queryset), form


__all__ = ["SORTS", "Customer", "CustomerFilter", "filter_customers"]
