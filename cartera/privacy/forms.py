from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Contact, Customer
from cartera.privacy.models import (
    ConsentRecord,
    DataSubjectRequest,
    PrivacyPolicy,
    RequestStatus,
)

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ConsentForm(forms.ModelForm):
    class Meta:
        model = ConsentRecord
        fields = ["contact", "purpose", "legal_basis", "state", "recorded_on", "source", "evidence"]
        widgets = {"recorded_on": _DATE, "evidence": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"recorded_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        contact = self.fields["contact"]
        assert isinstance(contact, forms.ModelChoiceField)
        contact.queryset = Contact.objects.filter(customer=customer)
        contact.empty_label = str(_("The customer"))


class RequestForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ["kind", "received_on", "channel", "contact", "notes"]
        widgets = {"received_on": _DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        contact = self.fields["contact"]
        assert isinstance(contact, forms.ModelChoiceField)
        contact.queryset = Contact.objects.filter(customer=customer)
        contact.empty_label = "—"


class CloseRequestForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (RequestStatus.IN_PROGRESS, RequestStatus.IN_PROGRESS.label),
            (RequestStatus.COMPLETED, RequestStatus.COMPLETED.label),
            (RequestStatus.REJECTED, RequestStatus.REJECTED.label),
        ],
    )
    resolution = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )


class PrivacyPolicyForm(forms.ModelForm):
    class Meta:
        model = PrivacyPolicy
        fields = ["block_months", "inactive_years"]
