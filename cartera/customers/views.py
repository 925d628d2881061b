"""Pages of the customer register: list, ficha, reduced and complete forms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import BaseFormSet, Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cartera.accounts.models import User
from cartera.audit import services as audit
from cartera.audit.models import AuditEvent
from cartera.audit.presenters import present
from cartera.core.countries import region_choices
from cartera.core.db import joins_as_written
from cartera.core.models import Company
from cartera.core.pagination import BoundedPaginator
from cartera.core.phones import format_phone
from cartera.customers import bulk, panels, services
from cartera.customers.filters import CustomerFilter
from cartera.customers.forms import (
    AddressForm,
    AddressFormSet,
    ChannelFormSet,
    ContactFormSet,
    CustomerForm,
    HandoverForm,
    QuickChannelsForm,
)
from cartera.customers.models import AddressType, ChannelType, Customer, CustomField, Segment, Stage
from cartera.customers.panels import panels_for
from cartera.customers.queries import customer_detail_queryset, customer_list_queryset
from cartera.customers.segments import clean_query, name_refused, refused_filters
from cartera.customers.validation import CustomerInvalid


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = CustomerFilter(data=request.GET, user=user)
    queryset = form.apply(customer_list_queryset(user))
    params = request.GET.copy()
    params.pop("page", None)
    segment_id = request.GET.get("segment", "")
    segment = (
        Segment.objects.visible_to(user).filter(pk=segment_id).first()
        if segment_id.isdigit()
        else None
    )
    refused: list[str] = []
    if segment is not None and (wrong := refused_filters(form)):
        # a segment is its filters, all of them, or shows no one
        refused = list(name_refused(form, wrong).values())
        queryset = queryset.none()
    page = BoundedPaginator(queryset, settings.CARTERA_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": form,
        "page": page,
        "query": params.urlencode(),
        "home_region": Company.load().default_country,
        # Segments (saved filters) and the actions on many customers at once.
        "segments": Segment.objects.visible_to(user).order_by("name", "id"),
        "segment": segment,
        "segment_refused": refused,
        "segment_query": clean_query(params),
        "bulk_actions": bulk.actions_for(user),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "customers/_results.html", context)
    return render(request, "customers/list.html", context)


@login_required
@joins_as_written()
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    customer = get_object_or_404(customer_detail_queryset(user), pk=pk)
    company = panels.company(request)
    missing = services.invoice_missing(customer)
    labels = {
        "kind": _("kind"),
        "fiscal_type": _("fiscal type"),
        "legal_name": _("legal name"),
        "tax_id": _("tax id"),
        "fiscal_address": _("fiscal address"),
    }
    review_due = (
        customer.reviewed_at is None
        or (timezone.now() - customer.reviewed_at).days > company.review_period_months * 30
    )
    can_edit = panels.editable(request, customer, user)
    audit.record_access(
        by=user, object_type="customer", object_id=customer.pk, label=customer.code,
        customer_id=customer.pk,
    )  # fmt: skip
    history = [
        present(e)
        for e in AuditEvent.objects.for_customer(customer.pk)
        .changes()
        .visible_to(user)[:HISTORY_ON_FICHA]
    ]
    fields = {d.key: d for d in CustomField.objects.filter(is_active=True)}
    custom = [(fields[k].label, v) for k, v in customer.custom_data.items() if k in fields]
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "missing": [labels[m] for m in missing],
            "can_edit": can_edit,
            "review_due": review_due,
            "home_region": company.default_country,
            "custom_values": custom,
            "history": history,
            "panels": panels_for(request, customer, user),
        },
    )


HISTORY_ON_FICHA = 8


@login_required
def customer_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole history of a customer; with ?access=1 also who looked at it."""
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=pk)
    events = AuditEvent.objects.for_customer(customer.pk).visible_to(user)
    show_access = request.GET.get("access") == "1" and user.is_admin
    if not show_access:
        events = events.changes()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {
        "customer": customer,
        "page": page,
        "events": [present(e) for e in page.object_list],
        "show_access": show_access,
        "query": "access=1" if show_access else "",
    }
    return render(request, "customers/history.html", context)


class CustomerEditor:
    """The forms of one create/edit page, and where the services' errors land on them."""

    def __init__(
        self, request: HttpRequest, *, customer: Customer | None = None, reduced: bool = False
    ) -> None:
        self.user = _user(request)
        self.customer = customer
        self.reduced = reduced
        self.company = Company.load()
        self.section_errors: dict[str, list[str]] = {}
        self.duplicate: Customer | None = None
        self.duplicate_visible = False
        self._routes: dict[str, Form] = {}
        self._aliases: dict[str, str] = {}
        data = request.POST if request.method == "POST" else None
        country = self.company.default_country
        initial: dict[str, Any] = {"tax_country": country, "owner": self.user.pk}
        if request.GET.get("stage") in Stage.values:  # e.g. "New lead" links here with ?stage=lead
            initial["stage"] = request.GET["stage"]
        if customer is not None:
            initial = CustomerForm.initial_for(customer)
        self.form = CustomerForm(
            data,
            user=self.user,
            reduced=reduced,
            initial=initial,
            stage_from=customer.stage if customer else None,
        )
        if reduced:
            self.fiscal = AddressForm(
                data, prefix="fiscal", default_country=country, initial={"type": AddressType.FISCAL}
            )
            self.quick = QuickChannelsForm(data, prefix="quick")
            return
        channels = addresses = contacts = None
        if customer is not None:
            home = self.company.default_country
            channels = [
                _values(c, ("id", "type", "label", "is_primary")) | {"value": c.display(home)}
                for c in customer.channels.all()
            ]
            addresses = [_values(a, _ADDRESS) for a in customer.addresses.all()]
            contacts = [
                _values(c, _CONTACT)
                | {"phone": format_phone(c.phone, home) if c.phone else ""}
                | {"mobile": format_phone(c.mobile, home) if c.mobile else ""}
                for c in customer.contacts.all()
            ]
        else:
            addresses = [{"type": AddressType.FISCAL, "country": country}]
            channels = [{"type": ChannelType.PHONE}, {"type": ChannelType.EMAIL}]
        self.channels = ChannelFormSet(data, prefix="channels", initial=channels)
        self.addresses = AddressFormSet(
            data, prefix="addresses", initial=addresses, form_kwargs={"default_country": country}
        )
        self.contacts = ContactFormSet(data, prefix="contacts", initial=contacts)

    def forms(self) -> list[Form | BaseFormSet]:
        if self.reduced:
            return [self.form, self.fiscal, self.quick]
        return [self.form, self.channels, self.addresses, self.contacts]

    def is_valid(self) -> bool:
        return all([f.is_valid() for f in self.forms()])

    def data(self) -> dict[str, Any]:
        """Everything posted, in the services' terms; remembers which form each item came from."""
        data = self.form.to_data()
        if self.reduced:
            data["addresses"] = []
            if self.fiscal.has_content():
                data["addresses"].append(self.fiscal.cleaned_data | {"type": AddressType.FISCAL})
                self._routes["addresses.0"] = self.fiscal
            data["channels"] = []
            for name, kind in (("phone", ChannelType.PHONE), ("email", ChannelType.EMAIL)):
                if value := self.quick.cleaned_data.get(name):
                    self._routes[f"channels.{len(data['channels'])}"] = self.quick
                    self._aliases[f"channels.{len(data['channels'])}.value"] = name
                    data["channels"].append({"type": kind, "value": value})
            return data
        for name, formset in (
            ("channels", self.channels),
            ("addresses", self.addresses),
            ("contacts", self.contacts),
        ):
            items: list[dict[str, Any]] = []
            for form in formset.forms:
                cleaned = form.cleaned_data
                if not cleaned or cleaned.get("DELETE") or _is_blank(name, form):
                    continue
                self._routes[f"{name}.{len(items)}"] = form
                items.append({k: v for k, v in cleaned.items() if k != "DELETE"})
            data[name] = items
        return data

    def apply_errors(self, exc: CustomerInvalid) -> None:
        aliases = self._aliases
        for path, messages_ in exc.messages_by_field.items():
            parts = path.split(".")
            target: Form = self.form
            field: str | None = parts[0]
            if path in aliases:
                target, field = self.quick, aliases[path]
            elif len(parts) >= 2 and f"{parts[0]}.{parts[1]}" in self._routes:
                target = self._routes[f"{parts[0]}.{parts[1]}"]
                field = parts[2] if len(parts) > 2 else None
            elif parts[0] == "custom_data":
                field = f"cf_{parts[1]}"
            elif parts[0] in ("channels", "addresses", "contacts"):
                if self.reduced and parts[0] == "addresses":
                    target, field = self.fiscal, None
                elif self.reduced and parts[0] == "channels":
                    target, field = self.quick, None
                else:
                    self.section_errors.setdefault(parts[0], []).extend(messages_)
                    continue
            if field is not None and field not in target.fields:
                field = None
            for message in messages_:
                target.add_error(field, message)
        if exc.duplicate is not None:
            self.duplicate = exc.duplicate
            self.duplicate_visible = (
                Customer.objects.visible_to(self.user).filter(pk=exc.duplicate.pk).exists()
            )

    def context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "editor": self,
            "form": self.form,
            "customer": self.customer,
            "reduced": self.reduced,
            "section_errors": self.section_errors,
        }
        if self.reduced:
            ctx.update(fiscal=self.fiscal, quick=self.quick)
        else:
            ctx.update(channels=self.channels, addresses=self.addresses, contacts=self.contacts)
        return ctx


_ADDRESS = ("id", "type", "street", "exterior_number", "interior_number", "neighbourhood",
            "postal_code", "municipality", "locality", "region", "country")  # fmt: skip
_CONTACT = ("id", "first_name", "last_name", "role", "email", "phone", "mobile", "birthday",
            "notes", "is_primary")  # fmt: skip


def _values(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _is_blank(section: str, form: Form) -> bool:
    """An untouched extra row (e.g. the empty phone line of a new customer) is ignored."""
    data = form.cleaned_data
    if data.get("id"):
        return False
    if section == "channels":
        return not data.get("value")
    if section == "addresses":
        assert isinstance(form, AddressForm)
        return not form.has_content()
    return not any(data.get(k) for k in ("first_name", "last_name", "email", "phone", "mobile"))


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.can_write:
        raise PermissionDenied
    reduced = request.GET.get("form", "reduced") != "complete"
    editor = CustomerEditor(request, reduced=reduced)
    if request.method == "POST" and editor.is_valid():
        try:
            customer = services.create_customer(data=editor.data(), by=user)
        except CustomerInvalid as exc:
            editor.apply_errors(exc)
        else:
            messages.success(request, _("Customer %(code)s created.") % {"code": customer.code})
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/form.html",
        editor.context() | {"title": _("New customer")},
        status=_status(request, editor),
    )


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    customer = get_object_or_404(customer_detail_queryset(user), pk=pk)
    if not Customer.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied
    editor = CustomerEditor(request, customer=customer)
    conflict = False
    if request.method == "POST" and editor.is_valid():
        version = request.POST.get("version", "")
        try:
            services.update_customer(
                customer=customer,
                data=editor.data(),
                by=user,
                version=int(version) if version.isdigit() else None,
            )
        except services.VersionConflict as exc:
            conflict = True
            editor.form.add_error(None, exc.messages[0])
        except CustomerInvalid as exc:
            editor.apply_errors(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:detail", pk=customer.pk)
    title = _("Edit %(name)s") % {"name": customer.display_name}
    return render(
        request,
        "customers/form.html",
        editor.context() | {"title": title, "conflict": conflict},
        status=409 if conflict else _status(request, editor),
    )


def _status(request: HttpRequest, editor: CustomerEditor) -> int:
    return 422 if request.method == "POST" else 200


@login_required
@require_POST
def customer_archive(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    services.archive_customer(customer=customer, by=_user(request))
    messages.success(request, _("Customer archived. You can restore it at any time."))
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def customer_restore(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    services.restore_customer(customer=customer, by=_user(request))
    messages.success(request, _("Customer restored."))
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def customer_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    services.mark_reviewed(customer=customer, by=_user(request))
    messages.success(request, _("Data marked as reviewed today."))
    return redirect("customers:detail", pk=pk)


@login_required
def regions(request: HttpRequest) -> JsonResponse:
    """Regions of a country for the address forms' region picker."""
    country = request.GET.get("country", "")[:2].upper()
    return JsonResponse({"regions": region_choices(country)})


@login_required
def handover(request: HttpRequest) -> HttpResponse:
    """A manager hands everything of one person to others (e.g. when someone leaves):
    their customers, and the work other apps keep for them (open tasks)."""
    user = _user(request)
    if not user.can_assign_owners:
        raise PermissionDenied
    form = HandoverForm(request.POST or None, initial={"from_owner": request.GET.get("from")})
    if request.method == "POST" and form.is_valid():
        try:
            result = bulk.hand_over_portfolio(
                leaving=form.cleaned_data["from_owner"],
                to=form.cleaned_data["to_owner"],
                work_to=form.cleaned_data.get("work_to"),
                by=user,
            )
        except CustomerInvalid as exc:
            for field, errors in exc.messages_by_field.items():
                target = {"owner": "to_owner", "assignee": "work_to"}.get(field, field)
                for error in errors:
                    form.add_error(target if target in form.fields else None, error)
        else:
            messages.success(request, result.message())
            return redirect(f"{reverse('customers:list')}?owner={form.cleaned_data['to_owner'].pk}")
    leaving = (
        form.fields["from_owner"]
        .queryset.filter(  # type: ignore[attr-defined]
            pk=request.GET.get("from") if (request.GET.get("from") or "").isdigit() else None
        )
        .first()
    )
    holding = bulk.holdings(leaving) if leaving is not None else []
    status = 422 if request.method == "POST" else 200
    return render(
        request, "customers/handover.html", {"form": form, "holding": holding}, status=status
    )
