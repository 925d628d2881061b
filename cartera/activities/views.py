"""Pages of the lifecycle: stage and status changes, notes and calls, the timeline, Mi día."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cartera.accounts.models import User
from cartera.activities import reminders as reminders_service
from cartera.activities import services
from cartera.activities.lifecycle_forms import FiscalAddressForm, NoteForm, StageForm, StatusForm
from cartera.activities.models import NoteKind, Reminder, Task
from cartera.core.db import joins_as_written
from cartera.customers.models import Activity, AddressType, Customer, Stage
from cartera.customers.services import invoice_missing
from cartera.customers.validation import STAGE_TRANSITIONS, CustomerInvalid, address_as_dict

TIMELINE_ON_FICHA = 10
TIMELINE_PAGE = 25


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _editable(request: HttpRequest, pk: int) -> Customer:
    """The customer if the user may change it: 404 if they cannot see it, 403 if only see it."""
    user = _user(request)
    customer = get_object_or_404(
        Customer.objects.visible_to(user).prefetch_related("addresses"), pk=pk
    )
    if not Customer.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied
    return customer


def _apply_errors(form: Any, exc: CustomerInvalid, fallback: str = "__all__") -> None:
    for path, errors in exc.messages_by_field.items():
        name = path.split(".")[-1] if path.startswith("addresses") else path
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


def stage_choices(customer: Customer) -> list[tuple[str, str]]:
    """The stages a customer may move to from where it is, in the order of the funnel."""
    allowed = STAGE_TRANSITIONS.get(customer.stage, set())
    return [(value, str(label)) for value, label in Stage.choices if value in allowed]


@login_required
@require_http_methods(["GET", "POST"])
def stage_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a customer to another stage, asking only for what that stage needs."""
    customer = _editable(request, pk)
    to = request.POST.get("to") or request.GET.get("to") or ""
    allowed = dict(stage_choices(customer))
    if to not in allowed:
        return render(
            request,
            "activities/stage_pick.html",
            {"customer": customer, "choices": stage_choices(customer)},
            status=422 if request.method == "POST" or to else 200,
        )
    missing = invoice_missing(customer) if to == Stage.CLIENT else []
    data = request.POST if request.method == "POST" else None
    form = StageForm(data, customer=customer, to=to, missing=missing)
    fiscal = None
    if "fiscal_address" in missing:
        current = next((a for a in customer.addresses.all() if a.type == AddressType.FISCAL), None)
        fiscal = FiscalAddressForm(
            data,
            prefix="fiscal",
            initial=address_as_dict(current) if current else {},
            default_country=customer.tax_country or "ES",
        )
    if request.method == "POST" and form.is_valid() and (fiscal is None or fiscal.is_valid()):
        extra: dict[str, Any] = form.fiscal_fields()
        if fiscal is not None:
            extra |= services.fiscal_data(customer, fiscal.cleaned_data)
        try:
            services.change_stage(
                customer=customer,
                to=to,
                by=_user(request),
                reason=form.cleaned_data.get("reason", ""),
                loss_reason=form.cleaned_data.get("loss_reason", ""),
                competitor=form.cleaned_data.get("competitor", ""),
                data=extra,
                version=form.cleaned_data["version"],
            )
        except CustomerInvalid as exc:
            _apply_errors(form, exc)
            if fiscal is not None:
                for path, errors in exc.messages_by_field.items():
                    name = path.split(".")[-1]
                    if path.startswith("addresses") and name in fiscal.fields:
                        for error in errors:
                            fiscal.add_error(name, error)
        else:
            messages.success(
                request,
                _("%(name)s is now: %(stage)s.")
                % {"name": customer.display_name, "stage": Stage(to).label},
            )
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "activities/stage_form.html",
        {
            "customer": customer,
            "to": to,
            "to_label": Stage(to).label,
            "form": form,
            "fiscal": fiscal,
            "missing": missing,
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def status_change(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable(request, pk)
    form = StatusForm(
        request.POST or None,
        initial={"version": customer.version, "status": customer.status},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_status(
                customer=customer,
                to=form.cleaned_data["status"],
                by=_user(request),
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
            )
        except CustomerInvalid as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Status changed."))
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "activities/status_form.html",
        {"customer": customer, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def note_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Write a note or log a call, e-mail or meeting on the customer's timeline."""
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=pk)
    if not user.can_write:
        raise PermissionDenied
    kind = request.GET.get("kind", NoteKind.NOTE)
    form = NoteForm(
        request.POST or None,
        customer=customer,
        initial={"kind": kind if kind in NoteKind.values else NoteKind.NOTE},
    )
    if request.method == "POST" and form.is_valid():
        try:
            note = services.log_note(customer=customer, data=form.cleaned_data, by=user)
        except CustomerInvalid as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("Saved in the timeline: %(what)s.") % {"what": note.get_kind_display()}
            )
            return redirect(f"{customer_url(customer)}#timeline")
    return render(
        request,
        "activities/note_form.html",
        {"customer": customer, "form": form},
        status=422 if request.method == "POST" else 200,
    )


def customer_url(customer: Customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


TIMELINE_FILTER_LABELS = {
    "notes": gettext_lazy("Notes"),
    "calls": gettext_lazy("Calls, e-mails and meetings"),
    "lifecycle": gettext_lazy("Stage and status"),
    "tasks": gettext_lazy("Tasks"),
    "documents": gettext_lazy("Documents"),
    "sales": gettext_lazy("Sales"),
    "data": gettext_lazy("Imports and merges"),
}


def _timeline_filters() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in TIMELINE_FILTER_LABELS.items()]


@login_required
@require_http_methods(["GET", "HEAD"])
@joins_as_written()
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's whole story, newest first, filterable by kind, paginated."""
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=pk)
    kind = request.GET.get("kind", "")
    if kind not in services.TIMELINE_FILTERS:
        kind = ""
    page = Paginator(services.timeline_for(customer, user, kind=kind), TIMELINE_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "customer": customer,
        "page": page,
        "entries": page.object_list,
        "kind": kind,
        "filters": _timeline_filters(),
        "query": f"kind={kind}" if kind else "",
    }
    return render(request, "activities/timeline.html", context)


def timeline_panel(request: HttpRequest, customer: Customer, user: User) -> dict[str, Any]:
    """The ficha's timeline: the latest entries and the quick "log" form."""
    entries = list(services.timeline_for(customer, user)[: TIMELINE_ON_FICHA + 1])
    return {
        "entries": entries[:TIMELINE_ON_FICHA],
        "more": len(entries) > TIMELINE_ON_FICHA,
        "can_log": user.can_write,
        "note_kinds": NoteKind.choices,
        "filters": _timeline_filters(),
    }


def lifecycle_panel(request: HttpRequest, customer: Customer, user: User) -> dict[str, Any]:
    """The stage buttons on the ficha: only the moves allowed from the current stage."""
    return {"stage_choices": stage_choices(customer)}


# --- Mi día ---------------------------------------------------------------------

TODAY_LIMIT = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def today(request: HttpRequest) -> HttpResponse:
    """Mi día: what the user has to do today, overdue first, with one-click done/snooze."""
    user = _user(request)
    day = timezone.localdate()
    tasks = list(
        Task.objects.visible_to(user)
        .open()
        .filter(assignee=user, due_date__lte=day)
        .select_related("customer", "contact")
        .order_by("due_date", "due_time", "id")[: TODAY_LIMIT + 1]
    )
    upcoming = (
        Task.objects.visible_to(user)
        .open()
        .filter(assignee=user, due_date__gt=day, due_date__lte=day + datetime.timedelta(days=7))
        .select_related("customer")
        .order_by("due_date", "due_time", "id")[:10]
    )
    reminders = list(reminders_service.pending_reminders(user, day)[: TODAY_LIMIT + 1])
    for reminder in reminders:
        reminder.text = reminders_service.describe(reminder)  # type: ignore[attr-defined]
    mine = Customer.objects.visible_to(user).current().filter(owner=user)
    follow_ups = list(mine.filter(follow_up=True).order_by("-updated_at", "-id")[:10])
    pre_inactive = list(mine.with_activity(Activity.PRE_INACTIVE).order_by("sort_name", "id")[:10])
    context = {
        "day": day,
        "tasks": tasks[:TODAY_LIMIT],
        "more_tasks": len(tasks) > TODAY_LIMIT,
        "upcoming": upcoming,
        "reminders": reminders[:TODAY_LIMIT],
        "more_reminders": len(reminders) > TODAY_LIMIT,
        "follow_ups": follow_ups,
        "pre_inactive": pre_inactive,
    }
    return render(request, "activities/today.html", context)


def _today_task(request: HttpRequest, pk: int) -> Task:
    user = _user(request)
    task = get_object_or_404(Task.objects.visible_to(user).select_related("customer"), pk=pk)
    if not services.may_change_task(task, user):
        raise PermissionDenied
    return task


@login_required
@require_http_methods(["POST"])
def today_task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """One click on Mi día: the task is done (a recurring one schedules its next)."""
    task = services.complete_task(
        task=_today_task(request, pk), by=_user(request), outcome=request.POST.get("outcome", "")
    )
    if request.headers.get("HX-Request"):
        task.customer = Customer.objects.get(pk=task.customer_id)
        context = {"t": task, "day": timezone.localdate()}
        return render(request, "activities/_today_task.html", context)
    messages.success(request, _("Task done."))
    return redirect("activities:today")


@login_required
@require_http_methods(["POST"])
def today_task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    """One click on Mi día: the task moves to tomorrow and leaves today's list."""
    services.snooze_task(task=_today_task(request, pk), by=_user(request), days=1)
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    messages.success(request, _("Task moved to tomorrow."))
    return redirect("activities:today")


@login_required
@require_http_methods(["POST"])
def today_reminder_done(request: HttpRequest, pk: int) -> HttpResponse:
    reminder = get_object_or_404(Reminder, pk=pk, user=_user(request))
    reminders_service.complete_reminder(reminder=reminder, by=_user(request))
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    messages.success(request, _("Reminder done."))
    return redirect("activities:today")


@login_required
@require_http_methods(["POST"])
def today_reminder_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a reminder off for a week (or ``days`` posted, 1-365)."""
    reminder = get_object_or_404(Reminder, pk=pk, user=_user(request))
    try:
        days = int(request.POST.get("days") or 7)
    except ValueError:
        days = 0
    try:
        reminders_service.snooze_reminder(
            reminder=reminder,
            by=_user(request),
            until=timezone.localdate() + datetime.timedelta(days=days),
        )
    except CustomerInvalid as exc:
        message = " ".join(m for ms in exc.messages_by_field.values() for m in ms)
        return HttpResponse(message, status=422)
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    messages.success(request, _("Reminder put off."))
    return redirect("activities:today")
