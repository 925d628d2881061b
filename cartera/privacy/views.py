"""Data-protection pages: a customer's consents and requests, the request queue, erasure."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cartera.accounts.models import User
from cartera.core.permissions import admin_required
from cartera.customers.models import Customer, among
from cartera.privacy import services
from cartera.privacy.forms import CloseRequestForm, ConsentForm, PrivacyPolicyForm, RequestForm
from cartera.privacy.models import DataSubjectRequest, PrivacyPolicy


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


@login_required
def customer_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    """Consents and data-subject requests of one customer; record new ones."""
    user = _user(request)
    customer = _customer(request, pk)
    consent_form = ConsentForm(customer=customer, prefix="consent")
    request_form = RequestForm(customer=customer, prefix="request")
    status = 200
    if request.method == "POST":
        if "consent-purpose" in request.POST:
            consent_form = ConsentForm(request.POST, customer=customer, prefix="consent")
            if consent_form.is_valid():
                services.record_consent(customer=customer, by=user, **consent_form.cleaned_data)
                messages.success(request, _("Consent recorded."))
                return redirect("privacy:customer", pk=pk)
        else:
            request_form = RequestForm(request.POST, customer=customer, prefix="request")
            if request_form.is_valid():
                services.open_request(customer=customer, by=user, **request_form.cleaned_data)
                messages.success(request, _("Request recorded. The answer is due within a month."))
                return redirect("privacy:customer", pk=pk)
        status = 422
    context = {
        "customer": customer,
        "consents": services.current_consents(customer),
        "consent_history": customer.consents.select_related("contact", "recorded_by"),
        "requests": customer.privacy_requests.all(),
        "consent_form": consent_form,
        "request_form": request_form,
        "can_edit": Customer.objects.editable_by(user).filter(pk=pk).exists(),
        "today": timezone.localdate(),
    }
    return render(request, "privacy/customer.html", context, status=status)


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """Every data-subject request, open ones first by deadline."""
    user = _user(request)
    if not user.sees_whole_portfolio:
        raise PermissionDenied
    visible = Customer.objects.visible_to(user)
    requests = DataSubjectRequest.objects.filter(among(visible)).select_related("customer")
    return render(
        request,
        "privacy/request_list.html",
        {"requests": requests[:500], "today": timezone.localdate()},
    )


@login_required
def request_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not user.sees_whole_portfolio:
        raise PermissionDenied
    visible = Customer.objects.visible_to(user)
    item = get_object_or_404(DataSubjectRequest.objects.filter(among(visible)), pk=pk)
    form = CloseRequestForm(request.POST or None, initial={"status": item.status})
    if request.method == "POST" and form.is_valid():
        services.close_request(request=item, by=user, **form.cleaned_data)
        messages.success(request, _("Request updated."))
        return redirect("privacy:customer", pk=item.customer_id)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "privacy/request_close.html", {"item": item, "form": form}, status=status
    )


@admin_required
def access_package(request: HttpRequest, pk: int) -> HttpResponse:
    """All the person's data: readable page, or JSON download with ?format=json."""
    customer = _customer(request, pk)
    package = services.access_package(customer, by=_user(request))
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(package, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="datos-{customer.code}.json"'
        return response
    return render(request, "privacy/package.html", {"customer": customer, "package": package})


@admin_required
@require_POST
def block(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    customer = services.block_customer(customer=customer, by=_user(request))
    messages.success(
        request,
        _("Data blocked: only administrators can see it, and it will be anonymised on %(day)s.")
        % {"day": customer.erase_after.strftime("%d/%m/%Y") if customer.erase_after else ""},
    )
    return redirect("privacy:customer", pk=pk)


@admin_required
@require_POST
def anonymize(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if customer.blocked_at is None:
        messages.error(request, _("Block the data first."))
        return redirect("privacy:customer", pk=pk)
    services.anonymize_customer(customer=customer, by=_user(request))
    messages.success(request, _("Personal data anonymised."))
    return redirect("customers:detail", pk=pk)


@admin_required
def policy(request: HttpRequest) -> HttpResponse:
    form = PrivacyPolicyForm(request.POST or None, instance=PrivacyPolicy.load())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Settings saved."))
        return redirect("privacy:policy")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "privacy/policy.html", {"form": form, "section": "privacy"}, status=status
    )
