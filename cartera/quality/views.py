"""The duplicate queue and the merge screen.

A pair exists, for a user, only when they may edit both customers (``reviewable_by``): anyone
else who opens it by id gets "not found", like a customer they may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cartera.accounts.models import User
from cartera.activities.models import Attachment, Note, Task, TimelineEntry
from cartera.core.models import Company
from cartera.core.pagination import BoundedPaginator
from cartera.customers.forms import LANGUAGE_CHOICES
from cartera.customers.models import Customer
from cartera.customers.validation import CustomerInvalid
from cartera.privacy.models import ConsentRecord, DataSubjectRequest
from cartera.quality import services
from cartera.quality.models import DuplicatePair, Merge, PairStatus
from cartera.quality.services import BOTH, MERGE_FIELDS, OTHER, SURVIVOR, MergeField

STATUSES = {s.value for s in PairStatus}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def pairs_for(user: User, status: str = PairStatus.OPEN) -> Any:
    """The pairs a user may review, best first, with both customers read in the same query."""
    return (
        DuplicatePair.objects.reviewable_by(user)
        .filter(status=status)
        .select_related("customer_a", "customer_b", "decided_by")
        .order_by("-score", "id")
    )


def _pair(request: HttpRequest, pk: int) -> DuplicatePair:
    return get_object_or_404(DuplicatePair.objects.reviewable_by(_user(request)), pk=pk)


@login_required
@require_GET
def pair_list(request: HttpRequest) -> HttpResponse:
    """The review queue: open pairs by score (or the dismissed and merged ones)."""
    user = _user(request)
    if not user.can_write:
        raise PermissionDenied
    status = request.GET.get("status", PairStatus.OPEN)
    if status not in STATUSES:
        status = PairStatus.OPEN
    paginator = BoundedPaginator(pairs_for(user, status), settings.CARTERA_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "quality/list.html",
        {
            "page": page,
            "pairs": page.object_list,
            "status": status,
            "statuses": PairStatus.choices,
            "can_scan": user.sees_whole_portfolio,
            "scan": services.scan_state(),
            "nav": "duplicates",
        },
    )


@login_required
@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    services.request_scan(by=_user(request))
    messages.success(
        request, _("The scan is queued. New pairs appear here once the worker has run it.")
    )
    return redirect("quality:list")


@login_required
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    pair = services.dismiss_pair(pair=_pair(request, pk), by=_user(request))
    messages.success(
        request,
        _("%(a)s and %(b)s are marked as different customers.")
        % {"a": pair.customer_a.code, "b": pair.customer_b.code},
    )
    return redirect("quality:list")


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    services.reopen_pair(pair=_pair(request, pk), by=_user(request))
    messages.success(request, _("The pair is back in the queue."))
    return redirect("quality:list")


# --- The merge screen -------------------------------------------------------------------


@dataclass
class Row:
    """One field of the merge screen: both values, and which one is picked."""

    field: MergeField
    kept: str
    merged: str
    choice: str
    errors: list[str]

    @property
    def differs(self) -> bool:
        return self.kept != self.merged


def display(customer: Customer, item: MergeField) -> str:
    """A field's value as the ficha would show it ('' when empty)."""
    value = services.field_value(customer, item)
    if value is None:
        return ""
    if item.name == "tax_id":
        return f"{customer.tax_id} ({customer.tax_country})" if customer.tax_country else value
    if item.name == "follow_up":
        return _("Yes")
    if item.name == "stage":
        text = str(customer.get_stage_display())
        return f"{text} · {customer.get_loss_reason_display()}" if customer.loss_reason else text
    if item.name == "status":
        text = str(customer.get_status_display())
        return f"{text} · {customer.status_reason}" if customer.status_reason else text
    if item.name == "language":
        return str(dict(LANGUAGE_CHOICES).get(customer.language, customer.language))
    if item.name in ("annual_revenue", "purchase_potential"):
        amount = number_format(getattr(customer, item.name), 2, force_grouping=True)
        return f"{amount} {customer.currency}".strip()
    getter = getattr(customer, f"get_{item.fields[0]}_display", None) if item.fields else None
    return str(getter()) if getter else str(value)


def _errors_by_row(exc: CustomerInvalid) -> tuple[dict[str, list[str]], list[str]]:
    """Messages of a refused merge on the row they concern, the rest for the top."""
    owner_of = {name: item.name for item in MERGE_FIELDS for name in item.fields}
    owner_of["addresses"] = "fiscal_address"
    rows: dict[str, list[str]] = {}
    general: list[str] = []
    for path, texts in exc.messages_by_field.items():
        name = path.removeprefix("choices.").split(".")[0]
        row = owner_of.get(name) or (name if name in services.FIELDS_BY_NAME else None)
        if row:
            rows.setdefault(row, []).extend(str(t) for t in texts)
        else:
            general.extend(str(t) for t in texts)
    return rows, general


def _moving(survivor: Customer, other: Customer, chosen: dict[str, str]) -> dict[str, Any]:
    """What the merged customer brings: its channels, addresses and contacts one by one (those
    the kept customer has already are not copied; addresses with the type they will have under
    the chosen fiscal address), and how many of everything else."""
    brought = services.register_rows_brought(
        survivor,
        other,
        home_region=Company.load().default_country,
        take_fiscal=chosen["fiscal_address"] == OTHER,
    )
    listed = [
        (_("Contact channels"), brought["channels"]),
        (_("Addresses"), brought["addresses"]),
        (_("Contacts"), brought["contacts"]),
    ]
    counts = [
        (_("Tasks"), Task.objects.filter(customer=other).count()),
        (_("Notes and calls"), Note.objects.filter(customer=other).count()),
        (_("Documents"), Attachment.objects.filter(customer=other).count()),
        (_("Timeline entries"), TimelineEntry.objects.filter(customer=other).count()),
        (_("Consents"), ConsentRecord.objects.filter(customer=other).count()),
        (_("Data-protection requests"), DataSubjectRequest.objects.filter(customer=other).count()),
    ]
    return {
        "listed": [(label, items) for label, items in listed if items],
        "counts": [(label, n) for label, n in counts if n],
    }


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Both records side by side, a choice per field, and the merge once confirmed."""
    user = _user(request)
    pair = _pair(request, pk)
    pick = request.POST.get("survivor") or request.GET.get("keep")
    survivor, other = pair.customer_a, pair.customer_b
    if str(pick) == str(other.pk):
        survivor, other = other, survivor
    chosen = services.default_choices(survivor, other)
    if request.method == "GET" and request.GET.get("fiscal_address") in (SURVIVOR, OTHER):
        # the preview of what the merged customer brings, as the fiscal address is chosen
        chosen["fiscal_address"] = request.GET["fiscal_address"]
    row_errors: dict[str, list[str]] = {}
    general: list[str] = []
    status = 200
    if request.method == "POST":
        posted = {item.name: request.POST.get(item.name, "") for item in MERGE_FIELDS}
        choices = {name: value for name, value in posted.items() if value}
        chosen |= {k: v for k, v in choices.items() if v in (SURVIVOR, OTHER, BOTH)}
        if str(pick) not in (str(pair.customer_a_id), str(pair.customer_b_id)):
            general.append(_("Choose the customer to keep."))
        elif not request.POST.get("confirm"):
            general.append(_("Confirm that you want to merge: it cannot be undone."))
        else:
            try:
                kept = services.merge_customers(
                    survivor=survivor, other=other, choices=choices, by=user
                )
            except CustomerInvalid as exc:
                row_errors, general = _errors_by_row(exc)
            else:
                messages.success(
                    request,
                    _("%(other)s was merged into %(kept)s and archived.")
                    % {"other": other.code, "kept": kept.code},
                )
                return redirect("customers:detail", pk=kept.pk)
        status = 422
    rows = [
        Row(
            field=item,
            kept=display(survivor, item),
            merged=display(other, item),
            choice=chosen[item.name],
            errors=row_errors.get(item.name, []),
        )
        for item in MERGE_FIELDS
    ]
    context = {
        "pair": pair,
        "survivor": survivor,
        "other": other,
        "rows": rows,
        "errors": general,
        "moving": _moving(survivor, other, chosen),
        "mergeable": pair.status != PairStatus.MERGED
        and survivor.archived_at is None
        and other.archived_at is None,
        "nav": "duplicates",
    }
    return render(request, "quality/merge.html", context, status=status)


# --- The ficha's panel ------------------------------------------------------------------


def merge_panel(request: HttpRequest, customer: Customer, user: User) -> dict[str, Any]:
    """Merges into or from this customer, only with customers the user sees.

    One light query for the many customers never merged; a second one, with the customers'
    names, for the others.
    """
    involved = Merge.objects.filter(Q(survivor=customer) | Q(merged=customer))
    if not involved.exists():
        return {"merged_into": None, "merged_from": []}
    visible = Customer.objects.visible_to(user)
    merges = list(
        involved.filter(survivor__in=visible, merged__in=visible).select_related(
            "survivor", "merged", "merged_by"
        )[:20]
    )
    return {
        "merged_into": next((m for m in merges if m.merged_id == customer.pk), None),
        "merged_from": [m for m in merges if m.survivor_id == customer.pk],
    }
