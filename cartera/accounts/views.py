"""Sign-in, password change and the administrators' user and team pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.accounts.forms import UserForm
from cartera.accounts.models import Team, User
from cartera.core.permissions import admin_required
from cartera.core.views import OptionListEditor


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.select_related("team").order_by("-is_active", "username")
    return render(request, "accounts/user_list.html", {"users": users, "section": "users"})


@admin_required
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=pk) if pk else User()
    form = UserForm(request.POST or None, instance=user)
    if request.method == "POST":
        if form.is_valid():
            saved = form.save()
            messages.success(request, _("User %(name)s saved.") % {"name": saved})
            return redirect("accounts:users")
        status = 422
    else:
        status = 200
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "edited": user, "section": "users"},
        status=status,
    )


teams = OptionListEditor(
    model=Team, fields=["name"], section="teams", title=gettext_lazy("Teams")
).as_view()
