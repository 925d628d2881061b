"""Pages of follow-up lists: the lists, and each one as a filter of the customer list."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from cartera.accounts.models import User
from cartera.activities import follow_up
from cartera.activities.models import FollowUpList
from cartera.customers.validation import CustomerInvalid


class FollowUpListForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    shared = forms.BooleanField(label=gettext_lazy("Share with everyone"), required=False)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _visible(request: HttpRequest, pk: int) -> FollowUpList:
    return get_object_or_404(follow_up.lists_visible_to(request.user), pk=pk)


def _errors(form: forms.Form, exc: CustomerInvalid) -> None:
    for field, errors in exc.messages_by_field.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def follow_up_lists(request: HttpRequest) -> HttpResponse:
    """The follow-up lists a user sees, and a form to start one."""
    user = _user(request)
    form = FollowUpListForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not user.can_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                created = follow_up.create_list(
                    name=form.cleaned_data["name"], shared=form.cleaned_data["shared"], by=user
                )
            except CustomerInvalid as exc:
                _errors(form, exc)
            else:
                messages.success(
                    request, _("Follow-up list “%(name)s” created.") % {"name": created}
                )
                return redirect("follow_up:lists")
        status = 422
    items = [
        {
            "list": item,
            "can_change": follow_up.may_change(item, user),
            "can_delete": follow_up.may_delete(item, user),
        }
        for item in follow_up.lists_with_counts(user)
    ]
    context = {"items": items, "form": form, "nav": "customers"}
    return render(request, "activities/follow_up_lists.html", context, status=status)


@login_required
@require_GET
def follow_up_open(request: HttpRequest, pk: int) -> HttpResponse:
    """A follow-up list is the customer list filtered by it."""
    item = _visible(request, pk)
    return redirect(f"{reverse('customers:list')}?follow_up_list={item.pk}")


@login_required
def follow_up_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = _visible(request, pk)
    if not follow_up.may_change(item, user):
        raise PermissionDenied
    form = FollowUpListForm(
        request.POST or None, initial={"name": item.name, "shared": item.shared}
    )
    if request.method == "POST" and form.is_valid():
        try:
            follow_up.update_list(
                follow_up_list=item, by=user, name=form.cleaned_data["name"],
                shared=form.cleaned_data["shared"],
            )  # fmt: skip
        except CustomerInvalid as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Follow-up list saved."))
            return redirect("follow_up:lists")
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "item": item, "nav": "customers"}
    return render(request, "activities/follow_up_form.html", context, status=status)


@login_required
@require_POST
def follow_up_delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible(request, pk)
    follow_up.delete_list(follow_up_list=item, by=_user(request))
    messages.success(request, _("Follow-up list “%(name)s” deleted.") % {"name": item.name})
    return redirect("follow_up:lists")


@login_required
@require_POST
def follow_up_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the ticked customers (``ids``) off the list."""
    item = _visible(request, pk)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:1000]
    removed = follow_up.remove_customers(follow_up_list=item, ids=ids, by=_user(request))
    messages.success(
        request,
        ngettext(
            "%(count)s customer taken off the list.", "%(count)s customers taken off the list.",
            removed,
        ) % {"count": removed},
    )  # fmt: skip
    return redirect("follow_up:open", pk=item.pk)
