"""Forms of the lifecycle: changing stage or status, and logging notes, calls and e-mails.

They only parse input; the services in ``cartera.activities.services`` decide what is valid.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartera.activities.models import Direction, NoteKind
from cartera.core.countries import country_choices
from cartera.core.forms import set_choices
from cartera.core.models import Company
from cartera.customers.forms import AddressForm
from cartera.customers.models import Contact, Customer, FiscalType, Kind, LossReason, Stage, Status

_LOSS_CHOICES = [("", "—"), *LossReason.choices]


class StageForm(forms.Form):
    """What a move to ``to`` needs, and nothing else."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    loss_reason = forms.ChoiceField(
        label=_("Reason for loss"), choices=_LOSS_CHOICES, required=False
    )
    competitor = forms.CharField(label=_("Competitor"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, widget=forms.RadioSelect)
    fiscal_type = forms.ModelChoiceField(
        label=_("Fiscal type"), queryset=FiscalType.objects.filter(is_active=True)
    )
    legal_name = forms.CharField(
        label=_("Legal name"), max_length=200, help_text=_("Exactly as it must appear on invoices.")
    )
    tax_country = forms.ChoiceField(label=_("Tax country"))
    tax_id = forms.CharField(label=_("Tax id"), max_length=40)

    FISCAL_FIELDS = ("kind", "fiscal_type", "legal_name", "tax_country", "tax_id")

    def __init__(self, *args: Any, customer: Customer, to: str, missing: list[str], **kwargs: Any):
        kwargs.setdefault(
            "initial",
            {
                "version": customer.version,
                "kind": customer.kind,
                "fiscal_type": customer.fiscal_type_id,
                "legal_name": customer.legal_name,
                "tax_country": customer.tax_country or Company.load().default_country,
                "tax_id": customer.tax_id,
                "loss_reason": customer.loss_reason,
            },
        )
        super().__init__(*args, **kwargs)
        self.to = to
        asks_fiscal = to == Stage.CLIENT and any(m != "fiscal_address" for m in missing)
        for name in self.FISCAL_FIELDS:
            if not asks_fiscal:
                del self.fields[name]
        if "tax_country" in self.fields:
            set_choices(self, "tax_country", country_choices())
        if to not in (Stage.LOST, Stage.FORMER):
            del self.fields["loss_reason"]
            del self.fields["competitor"]
        else:
            self.fields["loss_reason"].required = True
        reason = self.fields["reason"]
        if to == Stage.PROSPECT:
            reason.label = _("Qualification note")
            reason.required = True
            reason.help_text = _("Why is this lead a prospect: need, budget, timing, who decides.")
        elif to in (Stage.LOST, Stage.FORMER):
            reason.label = _("What happened")

    def cleaned(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version",)}

    def fiscal_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in self.FISCAL_FIELDS if k in self.cleaned_data}


class FiscalAddressForm(AddressForm):
    """The fiscal address a lead needs to become a client; the type is fixed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["type"]
        del self.fields["id"]
        for name in self.invoice_marks:
            self.fields[name].required = True


class StatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=200,
        help_text=_("Required to suspend a customer; shown on its record."),
    )  # fmt: skip


class NoteForm(forms.Form):
    """A note, or a call, e-mail or meeting that happened."""

    kind = forms.ChoiceField(label=_("What"), choices=NoteKind.choices, initial=NoteKind.NOTE)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("Text"), required=False, max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", "—"), *Direction.choices]
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=24 * 60
    )
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"],
    )  # fmt: skip
    contact: forms.ModelChoiceField[Contact] = forms.ModelChoiceField(
        label=_("Contact"), required=False, queryset=Contact.objects.none()
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = customer.contacts.all()
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
