"""Forms of the catalogue, the sales documents and the pipeline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import Role, User
from cartera.core.forms import AmountField
from cartera.customers.models import CustomerGroup, LeadSource, LossReason
from cartera.sales.models import PipelineStage, Product

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%Y-%m-%d"]
LINE_ROWS = 6  # empty rows a new document offers


def _date(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _amount(label: Any, **kwargs: Any) -> AmountField:
    """A decimal typed as people write it (a text box: number inputs refuse "12,50")."""
    return AmountField(
        label=label, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **kwargs
    )


def apply_errors(form: forms.BaseForm, errors: dict[str, list[str]], prefix: str = "") -> None:
    """Put a service's errors (``field`` or ``lines.N.field``) on the form's fields."""
    for key, messages in errors.items():
        name = key[len(prefix) :] if prefix and key.startswith(prefix) else key
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


# --- Catalogue --------------------------------------------------------------------------------


class ProductForm(forms.ModelForm):
    price = _amount(label=_("List price"), max_digits=14, decimal_places=4, min_value=0)
    tax_rate = _amount(
        label=_("Tax rate %"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )

    class Meta:
        model = Product
        fields = ["code", "name", "kind", "unit", "price", "tax_rate", "is_active"]

    required_marks = ("code", "name", "kind", "price", "tax_rate")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = list(CustomerGroup.objects.order_by("name"))
        specials = {}
        if self.instance.pk:
            specials = dict(self.instance.group_prices.values_list("group_id", "price"))
        for group in self.groups:
            self.fields[f"group_{group.pk}"] = _amount(
                str(group),
                required=False,
                max_digits=14,
                decimal_places=4,
                min_value=0,
                initial=specials.get(group.pk),
                help_text=_("Discount of the group: %(discount)s %%")
                % {"discount": group.discount_percent},
            )

    def group_fields(self) -> list[forms.BoundField]:
        return [self[f"group_{g.pk}"] for g in self.groups]

    def special_prices(self) -> dict[int, Decimal | None]:
        return {g.pk: self.cleaned_data.get(f"group_{g.pk}") for g in self.groups}


# --- Documents --------------------------------------------------------------------------------


class DocumentForm(forms.Form):
    issue_date = _date(_("Date"), required=True)
    valid_until = _date(_("Valid until"))
    due_date = _date(_("Due date"))
    customer_reference = forms.CharField(
        label=_("Customer's purchase order"), max_length=60, required=False
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, doc_type: str = "quote", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = users.order_by("first_name", "username")
        if doc_type != "quote":
            del self.fields["valid_until"]
        if doc_type != "invoice":
            del self.fields["due_date"]


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = _amount(label=_("Quantity"), max_digits=12, decimal_places=3, required=False)
    unit_price = _amount(label=_("Unit price"), max_digits=14, decimal_places=4, required=False)
    discount_percent = _amount(
        label=_("Discount %"), max_digits=5, decimal_places=2, required=False
    )
    tax_rate = _amount(label=_("Tax %"), max_digits=5, decimal_places=2, required=False)

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = products if products is not None else Product.objects.none()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) not in (None, "") for name in self.fields)


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"products": self.products}

    def lines(self) -> list[dict[str, Any]]:
        """The filled rows, in the services' terms."""
        return [form.cleaned_data for form in self.forms if not form.is_blank()]

    def line_forms(self) -> list[forms.Form]:
        return [form for form in self.forms if not form.is_blank()]


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=0, max_num=200, absolute_max=200
)


def apply_line_errors(formset: BaseLineFormSet, errors: dict[str, list[str]]) -> None:
    """``lines.N.field`` errors onto the Nth filled row."""
    filled = formset.line_forms()
    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] != "lines":
            continue
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(filled):
            form = filled[int(parts[1])]
            for message in messages:
                form.add_error(parts[2] if parts[2] in form.fields else None, message)
        else:
            formset._non_form_errors = formset.error_class(  # type: ignore[attr-defined]
                [*formset.non_form_errors(), *messages]
            )


# --- Pipeline ---------------------------------------------------------------------------------


class OpportunityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    amount = _amount(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    expected_close = _date(_("Expected close"))
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=PipelineStage.objects.none())
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    source = forms.ModelChoiceField(
        label=_("Source"), queryset=LeadSource.objects.none(), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    required_marks = ("title", "amount", "stage")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set("stage", PipelineStage.objects.filter(is_active=True))
        self._set("owner", User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY))
        self._set("source", LeadSource.objects.filter(is_active=True))

    def _set(self, name: str, queryset: Any) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = queryset

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if value and (len(value) != 3 or not value.isalpha()):
            raise ValidationError(_("Enter a three-letter currency code (EUR, MXN…)."))
        return value


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        label=_("Move to"), queryset=PipelineStage.objects.filter(is_active=True)
    )


class WinForm(forms.Form):
    document = forms.CharField(
        label=_("Won with quote or order (number)"), max_length=24, required=False
    )


class LoseForm(forms.Form):
    lost_reason = forms.ChoiceField(label=_("Reason for loss"), choices=LossReason.choices)
    competitor = forms.CharField(label=_("Competitor"), max_length=200, required=False)


class StageForm(forms.ModelForm):
    class Meta:
        model = PipelineStage
        fields = ["name", "position", "probability", "is_active"]


StageFormSet = forms.modelformset_factory(PipelineStage, form=StageForm, extra=1, can_delete=False)
