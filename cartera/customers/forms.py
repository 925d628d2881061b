"""Customer forms: the reduced one (what invoicing needs) and the complete one.

Forms only parse input; ``validation.validate_customer`` (through the services)
decides what is valid and its errors are routed back onto these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import Role, User
from cartera.core.countries import country_choices, currency_choices, region_choices
from cartera.core.forms import AmountField, set_choices
from cartera.customers.models import (
    AddressType,
    ChannelLabel,
    ChannelType,
    CompanySize,
    Customer,
    CustomerGroup,
    CustomField,
    CustomFieldType,
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
from cartera.customers.validation import STAGE_TRANSITIONS

LANGUAGE_CHOICES = [("", "—"), ("es", _("Spanish")), ("en", _("English")), ("pt", _("Portuguese"))]

REDUCED_FIELDS = (
    "kind", "fiscal_type", "tax_country", "tax_id", "legal_name", "first_name", "last_name",
    "trade_name", "legal_form", "stage", "owner",
)  # fmt: skip


def _blank(choices: Any, label: Any = "—") -> list[tuple[str, Any]]:
    return [("", label), *choices]


class CustomerForm(forms.Form):
    """The customer's own fields; ``reduced=True`` keeps only what invoicing needs."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=Kind.choices, widget=forms.RadioSelect, required=False
    )
    fiscal_type = forms.ModelChoiceField(
        label=_("Fiscal type"), queryset=FiscalType.objects.filter(is_active=True), required=False
    )
    tax_country = forms.ChoiceField(label=_("Tax country"), required=False)
    tax_id = forms.CharField(
        label=_("Tax id"), required=False, max_length=40,
        help_text=_("NIF/CIF, RFC, RUC, CUIT, RUT, NIT… Typing it fills in what it implies."),
    )  # fmt: skip
    legal_name = forms.CharField(
        label=_("Legal name"), required=False, max_length=200,
        help_text=_("Exactly as it must appear on invoices."),
    )  # fmt: skip
    first_name = forms.CharField(label=_("First name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Surnames"), required=False, max_length=150)
    trade_name = forms.CharField(label=_("Trade name"), required=False, max_length=200)
    legal_form = forms.ModelChoiceField(
        label=_("Legal form"), queryset=LegalForm.objects.filter(is_active=True), required=False
    )
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices, initial=Stage.LEAD)
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices, initial=Status.ACTIVE)
    status_reason = forms.CharField(
        label=_("Reason for the status"), required=False, max_length=200
    )
    loss_reason = forms.ChoiceField(
        label=_("Reason for loss"), choices=_blank(LossReason.choices), required=False
    )
    loss_detail = forms.CharField(
        label=_("Loss detail or competitor"), required=False, max_length=200
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=CustomerGroup.objects.all(), required=False
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=500, help_text=_("Separated by commas.")
    )
    follow_up = forms.BooleanField(label=_("Follow-up"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    payment_method = forms.ChoiceField(
        label=_("Payment method"), choices=_blank(PaymentMethod.choices), required=False
    )
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"), required=False, min_value=0, max_value=365
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    lead_source = forms.ModelChoiceField(
        label=_("Lead source"), queryset=LeadSource.objects.filter(is_active=True), required=False
    )
    sector = forms.ModelChoiceField(
        label=_("Sector"), queryset=Sector.objects.filter(is_active=True), required=False
    )
    size = forms.ChoiceField(label=_("Size"), choices=_blank(CompanySize.choices), required=False)
    annual_revenue = AmountField(
        label=_("Estimated annual revenue"), required=False, min_value=0, max_digits=16,
        decimal_places=2, localize=True,
    )  # fmt: skip
    purchase_potential = AmountField(
        label=_("Purchase potential"), required=False, min_value=0, max_digits=16,
        decimal_places=2, localize=True,
    )  # fmt: skip

    required_marks = ("kind", "legal_name")
    invoice_marks = ("fiscal_type", "tax_id", "tax_country")

    def __init__(
        self,
        *args: Any,
        user: User,
        reduced: bool = False,
        stage_from: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reduced = reduced
        if stage_from:
            allowed = {stage_from} | STAGE_TRANSITIONS.get(stage_from, set())
            set_choices(self, "stage", [c for c in Stage.choices if c[0] in allowed])
        set_choices(self, "tax_country", _blank(country_choices()))
        set_choices(self, "currency", _blank(currency_choices()))
        owners = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        if not user.can_assign_owners:
            # A salesperson keeps the current owner or takes the customer; nothing else.
            keep = [pk for pk in (user.pk, self.initial.get("owner")) if pk is not None]
            owners = owners.filter(pk__in=keep)
        owner_field.queryset = owners
        owner_field.empty_label = None if not user.can_assign_owners else "—"
        self.custom_fields = [] if reduced else list(CustomField.objects.filter(is_active=True))
        for definition in self.custom_fields:
            self.fields[f"cf_{definition.key}"] = _custom_form_field(definition)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.empty_label is not None:
                field.empty_label = "—"
        if reduced:
            self.fields["stage"].initial = Stage.CLIENT
            for name in list(self.fields):
                if name not in REDUCED_FIELDS:
                    del self.fields[name]
        for name in self.required_marks:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-required"] = "true"

    def to_data(self) -> dict[str, Any]:
        """The cleaned fields as the services take them."""
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("cf_")}
        if "tags" in data:
            data["tags"] = [t.strip() for t in data["tags"].split(",") if t.strip()]
        if self.custom_fields:
            data["custom_data"] = {
                d.key: self.cleaned_data.get(f"cf_{d.key}") for d in self.custom_fields
            }
        if "owner" in data and data["owner"] is None:
            del data["owner"]
        return data

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(customer, name) for name in cls.base_fields if name != "tags"
        }
        initial["owner"] = customer.owner_id
        initial["tags"] = ", ".join(t.name for t in customer.tags.all())
        for key, value in (customer.custom_data or {}).items():
            initial[f"cf_{key}"] = value
        return initial

    def is_required_mark(self, name: str) -> bool:
        return name in self.required_marks


def _custom_form_field(definition: CustomField) -> forms.Field:
    common: dict[str, Any] = {"label": definition.label, "required": False}
    if definition.field_type == CustomFieldType.NUMBER:
        return AmountField(localize=True, **common)
    if definition.field_type == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if definition.field_type == CustomFieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if definition.field_type == CustomFieldType.CHOICE:
        choices = _blank((c, c) for c in definition.choice_list)
        return forms.ChoiceField(choices=choices, **common)
    return forms.CharField(max_length=500, **common)


class ChannelForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    type = forms.ChoiceField(label=_("Type"), choices=ChannelType.choices)
    label = forms.ChoiceField(label=_("Use"), choices=_blank(ChannelLabel.choices), required=False)
    value = forms.CharField(label=_("Phone, e-mail or address"), max_length=254)
    is_primary = forms.BooleanField(label=_("Main"), required=False)


class AddressForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    type = forms.ChoiceField(label=_("Type"), choices=AddressType.choices)
    street = forms.CharField(label=_("Street"), max_length=200, required=False)
    exterior_number = forms.CharField(label=_("Number"), max_length=20, required=False)
    interior_number = forms.CharField(label=_("Floor / door"), max_length=40, required=False)
    neighbourhood = forms.CharField(
        label=_("Neighbourhood / colonia"), max_length=120, required=False
    )
    postal_code = forms.CharField(label=_("Postal code"), max_length=16, required=False)
    municipality = forms.CharField(label=_("Municipality"), max_length=120, required=False)
    locality = forms.CharField(label=_("Locality"), max_length=120, required=False)
    region = forms.ChoiceField(label=_("Region / province"), required=False)
    country = forms.ChoiceField(label=_("Country"))

    invoice_marks = ("street", "postal_code", "municipality", "country")

    def __init__(self, *args: Any, default_country: str = "ES", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "country", country_choices())
        self.fields["country"].initial = default_country
        country = (self.data.get(self.add_prefix("country")) if self.is_bound else None) or (
            self.initial.get("country") or default_country
        )
        set_choices(self, "region", _blank(region_choices(str(country))))
        self.fields["region"].widget.attrs["data-region-for"] = self.add_prefix("country")

    def has_content(self) -> bool:
        data = self.cleaned_data
        keys = ("street", "exterior_number", "postal_code", "municipality", "locality")
        return bool(data.get("id")) or any(data.get(k) for k in keys)


class ContactForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Surnames"), max_length=150, required=False)
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=32, required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)
    is_primary = forms.BooleanField(label=_("Main contact"), required=False)


class QuickChannelsForm(forms.Form):
    """The reduced form's phone and e-mail."""

    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)


ChannelFormSet = forms.formset_factory(ChannelForm, extra=0, can_delete=True, max_num=50)
AddressFormSet = forms.formset_factory(AddressForm, extra=0, can_delete=True, max_num=20)
ContactFormSet = forms.formset_factory(ContactForm, extra=0, can_delete=True, max_num=100)


class HandoverForm(forms.Form):
    from_owner = forms.ModelChoiceField(label=_("Customers of"), queryset=User.objects.none())
    to_owner = forms.ModelChoiceField(label=_("Hand them over to"), queryset=User.objects.none())
    work_to = forms.ModelChoiceField(
        label=_("Their open tasks go to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Whoever owns each task's customer afterwards"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from cartera.customers.bulk import holders

        super().__init__(*args, **kwargs)
        receivers = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
        self.fields["from_owner"].queryset = holders()  # type: ignore[attr-defined]
        self.fields["to_owner"].queryset = receivers  # type: ignore[attr-defined]
        self.fields["work_to"].queryset = receivers  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("from_owner") and data.get("from_owner") == data.get("to_owner"):
            self.add_error("to_owner", _("Choose someone else."))
        return data
