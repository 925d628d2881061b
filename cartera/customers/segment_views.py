"""Pages of segments (saved list filters) and of bulk actions on the customer list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from cartera.accounts.models import User
from cartera.customers import bulk, segments
from cartera.customers.models import Segment
from cartera.customers.validation import CustomerInvalid


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def list_url(query: str, **extra: Any) -> str:
    params = QueryDict(query, mutable=True)
    for name, value in extra.items():
        params[name] = str(value)
    encoded = params.urlencode()
    return reverse("customers:list") + (f"?{encoded}" if encoded else "")


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    shared = forms.BooleanField(
        label=gettext_lazy("Share with everyone"),
        required=False,
        help_text=gettext_lazy("Each person sees only the customers they may see."),
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=4000)


def _apply_errors(form: forms.Form, exc: CustomerInvalid) -> None:
    for field, errors in exc.messages_by_field.items():
        for error in errors:
            form.add_error(field if field in form.fields and field != "query" else None, error)


@login_required
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    describe = segments.FilterDescriber(user)
    items = [
        {
            "segment": s,
            "filters": describe(s.query),
            "can_change": segments.may_change(s, user),
            "can_delete": segments.may_delete(s, user),
        }
        for s in Segment.objects.visible_to(user).select_related("owner").order_by("name", "id")
    ]
    return render(request, "customers/segments.html", {"items": items, "nav": "customers"})


def describe_query(query: str, *, user: User) -> list[str]:
    return segments.FilterDescriber(user)(query)


@login_required
def segment_create(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters (from the list page, or ?query=…) as a segment."""
    user = _user(request)
    if request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = segments.create_segment(
                    name=form.cleaned_data["name"],
                    query=form.cleaned_data["query"],
                    shared=form.cleaned_data["shared"],
                    by=user,
                )
            except CustomerInvalid as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment})
                return redirect(list_url(segment.query, segment=segment.pk))
        status = 422
    else:
        form = SegmentForm(initial={"query": segments.clean_query(request.GET)})
        status = 200
    query = form["query"].value() or ""
    context = {"form": form, "filters": describe_query(segments.clean_query(query), user=user)}
    return render(request, "customers/segment_form.html", context, status=status)


def _visible(request: HttpRequest, pk: int) -> Segment:
    return get_object_or_404(Segment.objects.visible_to(request.user), pk=pk)


@login_required
@require_GET
def segment_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment is the customer list with its filters."""
    segment = _visible(request, pk)
    return redirect(list_url(segment.query, segment=segment.pk))


@login_required
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    segment = _visible(request, pk)
    if not segments.may_change(segment, user):
        raise PermissionDenied
    initial = {"name": segment.name, "shared": segment.shared, "query": segment.query}
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            segments.update_segment(
                segment=segment,
                by=user,
                name=form.cleaned_data["name"],
                shared=form.cleaned_data["shared"],
            )
        except CustomerInvalid as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("segments:list")
    context = {
        "form": form,
        "segment": segment,
        "filters": describe_query(segment.query, user=user),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "customers/segment_form.html", context, status=status)


@login_required
@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    segment = _visible(request, pk)
    segments.delete_segment(segment=segment, by=user)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("segments:list")


# --- Bulk actions ------------------------------------------------------------------------


class SelectionForm(forms.Form):
    """Which customers: the rows ticked on the list, or all matching its filters."""

    action = forms.ChoiceField(label=gettext_lazy("Action"))
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    all = forms.BooleanField(required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["action"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose an action")),
            *((a.name, a.label) for a in bulk.actions_for(user)),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Any ids are taken (at most a page's worth): the selection only ever holds customers
        # the user sees, and the action only those they may edit.
        posted = self.data.getlist("ids") if isinstance(self.data, QueryDict) else []
        data["ids"] = [int(v) for v in posted if str(v).isdigit()][:1000]
        if not data.get("all") and not data["ids"]:
            raise forms.ValidationError(
                _("Tick the customers to change, or choose all that match the filters.")
            )
        if data.get("all"):  # all that match: never all, for a filter the list refuses
            form = segments.segment_filter(
                segments.clean_query(data.get("query") or ""), user=self.user
            )
            if refused := segments.refused_filters(form):
                said = segments.name_refused(form, refused)
                raise forms.ValidationError(list(said.values()))
        return data


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Choose the action's details, see how many customers it changes, then confirm."""
    user = _user(request)
    if not bulk.actions_for(user):
        raise PermissionDenied
    selection = SelectionForm(request.POST, user=user)
    step = request.POST.get("step", "")
    if not selection.is_valid():
        refused = {"selection": selection, "action": None}
        return render(request, "customers/_bulk_action.html", refused, status=422)
    action = bulk.get_action(selection.cleaned_data["action"])
    assert action is not None
    query = segments.clean_query(selection.cleaned_data["query"] or "")
    customers = bulk.selection(
        user=user,
        query=query,
        ids=selection.cleaned_data["ids"],
        everything=selection.cleaned_data["all"],
    )
    params = action.form(request.POST if step else None, user=user)
    preview = None
    status = 200
    if step and params.is_valid():
        if step == "confirm":
            try:
                changed = bulk.run_action(
                    action, customers=customers, params=params.cleaned_data, by=user
                )
            except CustomerInvalid as exc:
                _apply_errors(params, exc)
                status = 422
            else:
                messages.success(request, done_message(action, params.cleaned_data, changed))
                return redirect(list_url(query))
        preview = bulk.preview(action, customers=customers, params=params.cleaned_data, by=user)
        if preview.too_many:
            params.add_error(None, bulk.too_many_message(preview.limit))
            status = 422
    elif step:
        status = 422
    else:
        preview = bulk.preview_selection(customers=customers, by=user)
    context: dict[str, Any] = {
        "selection": selection,
        "action": action,
        "params": params,
        "preview": preview,
        "described": action.describe(params.cleaned_data) if params.is_bound and
        params.is_valid() else action.label,
        "back": list_url(query),
        "filters": describe_query(query, user=user),
    }  # fmt: skip
    if request.headers.get("HX-Target") == "bulk-preview":
        # The count refreshed while the details are chosen: incomplete details just show none.
        return render(request, "customers/_bulk_preview.html", context)
    return render(request, "customers/_bulk_action.html", context, status=status)


def done_message(action: bulk.BulkAction, params: dict[str, Any], changed: int) -> str:
    if not changed:
        return _("Nothing to change: the chosen customers were already so.")
    return ngettext(
        "%(action)s: %(count)s customer changed.",
        "%(action)s: %(count)s customers changed.",
        changed,
    ) % {"action": action.describe(params), "count": changed}
