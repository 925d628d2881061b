"""Task pages: the ficha's Tasks panel, the agenda, creating, editing, done and snooze.

Every page works without JavaScript (forms post and redirect); with htmx, the panel and
the agenda's rows are swapped in place. An htmx answer goes to the element named by the
``HX-Target`` header: ``tasks-panel`` gets the whole panel, ``task-<id>`` one agenda row.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from cartera.accounts.models import User
from cartera.activities import services
from cartera.activities.forms import AgendaFilter, CompleteForm, SnoozeForm, TaskForm
from cartera.activities.models import Task, TaskQuerySet
from cartera.activities.views import timeline_panel
from cartera.core.pagination import BoundedPaginator
from cartera.customers import panels
from cartera.customers.models import Customer

PANEL_OPEN = 15  # open tasks shown on the ficha; the agenda has the rest
PANEL_DONE = 5  # most recent done ones
CUSTOMER_MATCHES = 10  # customers offered when picking one for a new task
PANEL_TARGET = "tasks-panel"
FORM_SLOT = "task-form-slot"  # where the panel fetches its new-task form


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _htmx_target(request: HttpRequest) -> str:
    if not request.headers.get("HX-Request"):
        return ""
    return request.headers.get("HX-Target", "")


def _next_url(request: HttpRequest, default: str) -> str:
    """Where a plain form goes back to: its ``next`` field when it is one of our pages."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _may_change(task: Task, user: User, *, can_edit_customer: bool) -> bool:
    """``services.may_change_task`` without a query per task (the customer's right is known)."""
    if not user.can_write:
        return False
    if user.pk in (task.assignee_id, task.created_by_id):
        return True
    return not task.private and can_edit_customer


def _visible_customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.visible_to(request.user).select_related("owner"), pk=pk
    )


def _visible_task(request: HttpRequest, pk: int) -> Task:
    tasks = Task.objects.visible_to(request.user).select_related(
        "customer", "customer__owner", "assignee", "contact", "created_by", "done_by"
    )
    return get_object_or_404(tasks, pk=pk)


# --- The ficha's panel ------------------------------------------------------------------


def tasks_panel(request: HttpRequest, customer: Any, user: Any, **extra: Any) -> dict[str, Any]:
    """Context of the Tasks panel: open tasks by date, the last done ones.

    Two queries whatever the customer holds (open tasks, done tasks) and the right to edit the
    customer, which the ficha has already asked. The new-task form is fetched when opened.
    """
    tasks = Task.objects.visible_to(user).filter(customer=customer)
    tasks = tasks.select_related("assignee", "contact")
    open_tasks = list(tasks.open().order_by("due_date", "due_time", "id")[: PANEL_OPEN + 1])
    done_tasks = list(tasks.done().order_by("-done_at", "-id")[:PANEL_DONE])
    can_edit = panels.editable(request, customer, user)
    for task in (*open_tasks, *done_tasks):
        task.can_change = _may_change(task, user, can_edit_customer=can_edit)  # type: ignore[attr-defined]
    return {
        "customer": customer,
        "open": open_tasks[:PANEL_OPEN],
        "more": len(open_tasks) > PANEL_OPEN,
        "done": done_tasks,
        # The new-task form comes when the user opens it (FORM_SLOT), or back with its errors.
        "can_create": user.can_write,
        "form": extra.get("form"),
        "form_open": bool(extra.get("form_open")),
        "today": timezone.localdate(),
        "next": reverse("customers:detail", args=[customer.pk]),
    }


def _render_panel(
    request: HttpRequest,
    customer: Customer,
    *,
    status: int = 200,
    changed: bool = False,
    **extra: Any,
) -> HttpResponse:
    """The Tasks panel; after a change, the timeline's entries too (swapped out of band)."""
    user = _user(request)
    context = tasks_panel(request, customer, user, **extra)
    response = render(
        request,
        "activities/_tasks_panel.html",
        {"panel": context, "customer": customer},
        status=status,
    )
    if changed:
        timeline = render_to_string(
            "activities/_timeline_entries.html",
            {"panel": timeline_panel(request, customer, user), "customer": customer, "oob": True},
            request=request,
        )
        response.content += timeline.encode()
    return response


# --- Creating ---------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def customer_task_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new task for one customer: the panel's inline form posts here; GET is the page."""
    user = _user(request)
    customer = _visible_customer(request, pk)
    if not user.can_write:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = TaskForm(data, user=user, customer=customer, prefix="task")
    in_panel = _htmx_target(request) == PANEL_TARGET
    if data is not None and (task := _create(form, customer, user)) is not None:
        if in_panel:
            return _render_panel(request, customer, changed=True)
        messages.success(request, _("Task “%(subject)s” created.") % {"subject": task.subject})
        return redirect(_next_url(request, reverse("customers:detail", args=[pk])))
    if in_panel:
        # htmx swaps only successful answers: the form comes back with its errors, 200
        return _render_panel(request, customer, form=form, form_open=True)
    if data is None and _htmx_target(request) == FORM_SLOT:
        context = {"form": form, "customer": customer, "next": _next_url(request, "")}
        context["next"] = context["next"] or reverse("customers:detail", args=[pk])
        return render(request, "activities/_task_panel_form.html", context)
    return render(
        request,
        "activities/task_form.html",
        {"form": form, "customer": customer, "next": _next_url(request, "")},
        status=422 if data is not None else 200,
    )


def _create(form: TaskForm, customer: Customer, user: User) -> Task | None:
    if not form.is_valid():
        return None
    try:
        return services.create_task(customer=customer, data=form.to_data(), by=user)
    except services.ActivityInvalid as exc:
        form.apply_errors(exc)
        return None


@login_required
def task_create(request: HttpRequest) -> HttpResponse:
    """A new task from the agenda: find the customer by search (never a full list), then fill in."""
    user = _user(request)
    if not user.can_write:
        raise PermissionDenied
    query = (request.GET.get("q") or "").strip()[:200]
    raw_customer = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = None
    if raw_customer.isdigit():
        customer = (
            Customer.objects.visible_to(user)
            .select_related("owner")
            .filter(pk=int(raw_customer))
            .first()
        )
        if customer is None:
            raise Http404
    matches = _customer_matches(user, query) if query and customer is None else []
    if _htmx_target(request) == "customer-matches":
        return render(
            request, "activities/_task_customer_matches.html", {"matches": matches, "q": query}
        )
    form = None
    status = 200
    if customer is not None:
        data = request.POST if request.method == "POST" else None
        form = TaskForm(data, user=user, customer=customer, prefix="task")
        if data is not None:
            if (task := _create(form, customer, user)) is not None:
                messages.success(
                    request, _("Task “%(subject)s” created.") % {"subject": task.subject}
                )
                return redirect(_next_url(request, reverse("tasks:agenda")))
            status = 422
    elif request.method == "POST":
        status = 422
    context = {
        "form": form,
        "customer": customer,
        "q": query,
        "matches": matches,
        "missing_customer": request.method == "POST" and customer is None,
        "next": _next_url(request, ""),
    }
    return render(request, "activities/task_create.html", context, status=status)


def _customer_matches(user: User, query: str) -> list[Customer]:
    """The first visible, current customers matching a search (the search index serves it)."""
    found = Customer.objects.visible_to(user).current().search(query)
    # The first matches the index gives, then sorted: a common name may match thousands.
    ids = list(found.order_by().values_list("pk", flat=True)[:CUSTOMER_MATCHES])
    return list(Customer.objects.filter(pk__in=ids).order_by("sort_name", "id"))


# --- One task ---------------------------------------------------------------------------


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A task: what, when, who; its edit form for whoever may change it."""
    user = _user(request)
    task = _visible_task(request, pk)
    can_change = services.may_change_task(task, user)
    form = None
    status = 200
    if can_change:
        data = request.POST if request.method == "POST" else None
        form = TaskForm(data, user=user, customer=task.customer, task=task, prefix="task")
        if data is not None:
            if form.is_valid():
                try:
                    services.update_task(task=task, data=form.to_data(), by=user)
                except services.ActivityInvalid as exc:
                    form.apply_errors(exc)
                else:
                    messages.success(request, _("Changes saved."))
                    return redirect("tasks:detail", pk=pk)
            status = 422
    elif request.method == "POST":
        raise PermissionDenied
    context = {
        "task": task,
        "form": form,
        "can_change": can_change,
        "today": timezone.localdate(),
        "following": Task.objects.visible_to(user).filter(previous=task).first(),
    }
    return render(request, "activities/task_detail.html", context, status=status)


def _changeable_task(request: HttpRequest, pk: int) -> Task:
    task = _visible_task(request, pk)
    if not services.may_change_task(task, _user(request)):
        raise PermissionDenied
    return task


def _after_change(request: HttpRequest, task: Task, message: str) -> HttpResponse:
    """The panel, the agenda row, or (without JavaScript) back to where the form was."""
    target = _htmx_target(request)
    if target == PANEL_TARGET:
        return _render_panel(request, task.customer, changed=True)
    if target == f"task-{task.pk}":
        fresh = _visible_task(request, task.pk)
        fresh.can_change = True  # type: ignore[attr-defined]
        context = {
            "task": fresh,
            "today": timezone.localdate(),
            "changed": message,
            "here": _next_url(request, reverse("tasks:agenda")),
        }
        return render(request, "activities/_task_row.html", context)
    messages.success(request, message)
    return redirect(_next_url(request, reverse("customers:detail", args=[task.customer_id])))


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = _changeable_task(request, pk)
    form = CompleteForm(request.POST)
    outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
    services.complete_task(task=task, by=_user(request), outcome=outcome)
    return _after_change(request, task, _("Task done."))


@login_required
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = _changeable_task(request, pk)
    services.reopen_task(task=task, by=_user(request))
    return _after_change(request, task, _("Task reopened."))


@login_required
@require_POST
def task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    task = _changeable_task(request, pk)
    form = SnoozeForm(request.POST)
    days = (form.cleaned_data["days"] if form.is_valid() else None) or 1
    task = services.snooze_task(task=task, by=_user(request), days=days)
    return _after_change(
        request, task, _("Put off to %(day)s.") % {"day": task.due_date.strftime("%d/%m/%Y")}
    )


# --- The agenda -------------------------------------------------------------------------


@dataclass
class Group:
    key: str
    title: str
    tasks: list[Task] = field(default_factory=list)


def agenda_queryset(user: User, form: AgendaFilter) -> TaskQuerySet:
    """The open tasks the agenda lists, narrowed by its valid filters, by date."""
    tasks = Task.objects.visible_to(user).open()
    who = form.value("who") or "me"
    if who == "team" and user.team_id:
        tasks = tasks.filter(assignee__team_id=user.team_id)
    elif who != "all" or not user.sees_whole_portfolio:
        tasks = tasks.filter(assignee=user)
    if kind := form.value("type"):
        tasks = tasks.filter(type=kind)
    if customer := form.value("customer"):
        tasks = tasks.filter(customer_id=customer)
    if query := form.value("q"):
        tasks = tasks.filter(customer__in=Customer.objects.visible_to(user).search(query))
    return tasks.select_related("customer", "assignee", "contact").order_by(
        "due_date", "due_time", "id"
    )


def group_by_due(tasks: list[Task], today: datetime.date) -> list[Group]:
    groups = {
        "overdue": Group("overdue", _("Overdue")),
        "today": Group("today", _("Today")),
        "week": Group("week", _("Next 7 days")),
        "later": Group("later", _("Later")),
    }
    week_end = today + datetime.timedelta(days=7)
    for task in tasks:
        if task.due_date < today:
            key = "overdue"
        elif task.due_date == today:
            key = "today"
        elif task.due_date <= week_end:
            key = "week"
        else:
            key = "later"
        groups[key].tasks.append(task)
    return [g for g in groups.values() if g.tasks]


@login_required
@require_GET
def agenda(request: HttpRequest) -> HttpResponse:
    """The user's open tasks: overdue, today, the next 7 days and later; paginated."""
    user = _user(request)
    data = request.GET.copy()
    data.setdefault("who", "me")
    form = AgendaFilter(data, user=user)
    paginator = BoundedPaginator(agenda_queryset(user, form), settings.CARTERA_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = list(page.object_list)
    editable = set(
        Customer.objects.editable_by(user)
        .filter(pk__in={t.customer_id for t in rows})
        .values_list("pk", flat=True)
    )
    for task in rows:
        task.can_change = _may_change(task, user, can_edit_customer=task.customer_id in editable)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filter": form,
        "page": page,
        "groups": group_by_due(rows, today),
        "today": today,
        "query": params.urlencode(),
        "here": request.get_full_path(),
        "nav": "agenda",
    }
    return render(request, "activities/agenda.html", context)
