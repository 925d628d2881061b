"""Pages of the pipeline: the board, the list, an opportunity, and the stages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cartera.accounts.models import User
from cartera.core.pagination import BoundedPaginator
from cartera.core.permissions import admin_required
from cartera.customers.models import Customer
from cartera.customers.validation import CustomerInvalid
from cartera.sales import opportunities as service
from cartera.sales.forms import (
    LoseForm,
    MoveForm,
    OpportunityForm,
    StageFormSet,
    WinForm,
    apply_errors,
)
from cartera.sales.models import (
    DocumentType,
    Opportunity,
    Outcome,
    PipelineStage,
    SalesDocument,
)
from cartera.sales.services import SalesInvalid

BOARD_CARDS = 50  # cards per column; the list shows the rest


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _opportunity(request: HttpRequest, pk: int, *, change: bool = False) -> Opportunity:
    """The opportunity if the user sees it (404 otherwise); ``change``: and may change it."""
    found = Opportunity.objects.visible_to(request.user).select_related(
        "customer", "owner", "stage", "source", "won_document"
    )
    opportunity = get_object_or_404(found, pk=pk)
    if change and not Opportunity.objects.editable_by(_user(request)).filter(pk=pk).exists():
        raise PermissionDenied
    return opportunity


def _scope(request: HttpRequest) -> Any:
    user = _user(request)
    found = Opportunity.objects.visible_to(user)
    if request.GET.get("mine") == "1":
        found = found.filter(owner=user)
    return found


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The kanban: open opportunities by stage, with the weighted value of each column.

    Three queries: the stages, the cards (a window of the first ones per stage is not
    portable, so each column shows the first cards of one ordered read), the weighted sums.
    """
    stages = list(PipelineStage.objects.filter(is_active=True))
    open_ones = _scope(request).open().select_related("customer", "owner", "stage")
    cards = list(open_ones.order_by("stage__position", "expected_close", "id")[:1000])
    editable = set(
        Opportunity.objects.editable_by(_user(request))
        .filter(pk__in=[c.pk for c in cards])
        .values_list("pk", flat=True)
    )
    columns = []
    for stage in stages:
        mine = [c for c in cards if c.stage_id == stage.pk]
        columns.append(
            {
                "stage": stage,
                "cards": mine[:BOARD_CARDS],
                "more": len(mine) > BOARD_CARDS,
                "total": sum((c.amount for c in mine), start=0),
            }
        )
    return render(
        request,
        "sales/board.html",
        {
            "columns": columns,
            "stages": stages,
            "editable": editable,
            "weighted": service.weighted_value(_scope(request)),
            "mine": request.GET.get("mine") == "1",
            "nav": "pipeline",
        },
    )


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    found = _scope(request).select_related("customer", "owner", "stage")
    outcome = request.GET.get("outcome", Outcome.OPEN)
    if outcome in Outcome.values:
        found = found.filter(outcome=outcome)
    found = found.order_by("expected_close", "id")
    page = BoundedPaginator(found, settings.CARTERA_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/opportunities.html",
        {
            "page": page,
            "outcome": outcome,
            "outcomes": Outcome.choices,
            "weighted": service.weighted_value(_scope(request)),
            "nav": "pipeline",
        },
    )


@login_required
def opportunity_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=customer_id)
    if not Customer.objects.editable_by(user).filter(pk=customer.pk).exists():
        raise PermissionDenied
    first = PipelineStage.objects.filter(is_active=True).first()
    form = OpportunityForm(
        request.POST or None,
        initial={"stage": first, "owner": customer.owner_id, "currency": customer.currency},
    )
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = service.create_opportunity(
                customer=customer, data=form.cleaned_data, by=user
            )
        except SalesInvalid as exc:
            apply_errors(form, exc.messages_by_field)
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect("sales:opportunity", pk=opportunity.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "sales/opportunity_form.html",
        {"form": form, "customer": customer, "nav": "pipeline"},
        status=status,
    )


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An opportunity: its facts, and for its customer's team the edit, win and lose forms."""
    user = _user(request)
    opportunity = _opportunity(request, pk)
    can_edit = Opportunity.objects.editable_by(user).filter(pk=pk).exists()
    initial = {
        name: getattr(opportunity, name)
        for name in ("title", "amount", "currency", "expected_close", "stage", "owner", "source")
    } | {"notes": opportunity.notes}
    form = OpportunityForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        status = 422
        if form.is_valid():
            try:
                service.update_opportunity(opportunity=opportunity, data=form.cleaned_data, by=user)
            except SalesInvalid as exc:
                apply_errors(form, exc.messages_by_field)
            else:
                messages.success(request, _("Opportunity saved."))
                return redirect("sales:opportunity", pk=pk)
    documents = SalesDocument.objects.filter(
        customer_id=opportunity.customer_id, type__in=[DocumentType.QUOTE, DocumentType.ORDER]
    ).order_by("-issue_date", "-id")[:20]
    return render(
        request,
        "sales/opportunity.html",
        {
            "opportunity": opportunity,
            "form": form,
            "can_edit": can_edit,
            "win_form": WinForm(),
            "lose_form": LoseForm(),
            "documents": documents,
            "nav": "pipeline",
        },
        status=status,
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card to another stage: the board's select and button, or its drag and drop."""
    user = _user(request)
    opportunity = _opportunity(request, pk, change=True)
    form = MoveForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            service.move_opportunity(
                opportunity=opportunity, stage=form.cleaned_data["stage"], by=user
            )
        except SalesInvalid as exc:
            error = " ".join(m for ms in exc.messages_by_field.values() for m in ms)
    else:
        error = _("Choose a stage.")
    if _wants_json(request):
        if error:
            return JsonResponse({"detail": error}, status=422)
        return JsonResponse({"id": pk, "stage": form.cleaned_data["stage"].pk})
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("“%(title)s” moved to %(stage)s.")
            % {"title": opportunity.title, "stage": form.cleaned_data["stage"]},
        )
    return redirect((request.POST.get("next") == "list" and "sales:opportunities") or "sales:board")


@login_required
@require_POST
def opportunity_win(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    opportunity = _opportunity(request, pk, change=True)
    code = (request.POST.get("document") or "").strip()
    document = None
    try:
        if code:
            document = SalesDocument.objects.filter(
                customer_id=opportunity.customer_id, code__iexact=code
            ).first()
            if document is None:
                missing = _("No quote or order of this customer has that number.")
                raise SalesInvalid({"document": [missing]})
        service.win_opportunity(opportunity=opportunity, by=user, document=document)
    except CustomerInvalid as exc:
        for ms in exc.messages_by_field.values():
            for m in ms:
                messages.error(request, m)
    else:
        messages.success(request, _("Opportunity won."))
    return redirect("sales:opportunity", pk=pk)


@login_required
@require_POST
def opportunity_lose(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    opportunity = _opportunity(request, pk, change=True)
    try:
        service.lose_opportunity(
            opportunity=opportunity,
            by=user,
            reason=request.POST.get("lost_reason", ""),
            competitor=request.POST.get("competitor", ""),
        )
    except CustomerInvalid as exc:
        for ms in exc.messages_by_field.values():
            for m in ms:
                messages.error(request, m)
    else:
        messages.success(request, _("Opportunity lost."))
    return redirect("sales:opportunity", pk=pk)


@admin_required
def stages(request: HttpRequest) -> HttpResponse:
    """The pipeline's stages and their probabilities (administrators)."""
    formset = StageFormSet(request.POST or None, queryset=PipelineStage.objects.all())
    if request.method == "POST" and formset.is_valid():
        formset.save()
        messages.success(request, _("Pipeline stages saved."))
        return redirect("sales:stages")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "sales/stages.html", {"formset": formset, "nav": "settings"}, status=status
    )
