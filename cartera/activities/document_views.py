"""Pages of a customer's documents: the ficha's panel, the list with the upload form,
download and delete. Files are only ever sent through ``download``, never a public URL."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cartera.accounts.models import User
from cartera.activities import documents
from cartera.activities.models import Attachment, AttachmentKind
from cartera.activities.services import ActivityInvalid
from cartera.customers.models import Customer

PANEL_SIZE = 5
PAGE_SIZE = 25


class DocumentForm(forms.Form):
    """What the person fills in; the content and size checks are the service's."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Type"), choices=AttachmentKind.choices, initial=AttachmentKind.OTHER
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=documents.DESCRIPTION_MAX, required=False
    )
    file = forms.FileField(label=gettext_lazy("File"), allow_empty_file=True)
    private = forms.BooleanField(
        label=gettext_lazy("Private (only you and the administrators see it)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = documents.accept_attribute()
        self.fields["file"].help_text = _("Up to %(size)s MB: %(types)s.") % {
            "size": documents.max_bytes() // (1024 * 1024),
            "types": ", ".join(sorted(documents.allowed_types())),
        }


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def document_panel(request: HttpRequest, customer: Customer, user: Any) -> dict[str, Any]:
    """The ficha's Documents panel: the latest few (one query) and the upload form."""
    latest = list(documents.documents_of(customer, user)[: PANEL_SIZE + 1])
    return {
        "customer": customer,
        "documents": latest[:PANEL_SIZE],
        "more": len(latest) > PANEL_SIZE,
        "form": DocumentForm() if getattr(user, "can_write", False) else None,
        "next": reverse("customers:detail", args=[customer.pk]) + "#documents",
    }


@login_required
def customer_documents(request: HttpRequest, pk: int) -> HttpResponse:
    """Every document of a customer, paginated; POST uploads one (also from the panel)."""
    user = _user(request)
    customer = get_object_or_404(Customer.objects.visible_to(user), pk=pk)
    form = DocumentForm()
    status = 200
    if request.method == "POST":
        if not user.can_write:
            raise PermissionDenied
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                attachment = documents.attach_document(
                    customer=customer, by=user, **form.cleaned_data
                )
            except ActivityInvalid as exc:
                for field, errors in exc.messages_by_field.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(
                    request, _("Document %(name)s attached.") % {"name": attachment.name}
                )
                return redirect(_next(request, customer))
        status = 422
    page = Paginator(documents.documents_of(customer, user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    can_edit = user.can_write and Customer.objects.editable_by(user).filter(pk=pk).exists()
    rows = [
        (item, documents.may_delete_known(item, user, can_edit_customer=can_edit))
        for item in page.object_list
    ]
    context = {
        "customer": customer,
        "page": page,
        "rows": rows,
        "form": form if user.can_write else None,
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "activities/documents.html", context, status=status)


def _next(request: HttpRequest, customer: Customer) -> str:
    """Back where the form was (the ficha or the list), never to another site."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if target.startswith("/") and allowed:
        return target
    return reverse("documents:list", args=[customer.pk])


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    attachment = get_object_or_404(Attachment.objects.visible_to(user), pk=pk)
    return file_response(attachment, by=user)


def file_response(attachment: Attachment, *, by: User) -> FileResponse:
    """The file as a download that the browser must not display nor guess the type of."""
    response = FileResponse(
        documents.open_document(attachment, by=by),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    attachment = get_object_or_404(Attachment.objects.visible_to(user), pk=pk)
    customer_id, name = attachment.customer_id, attachment.name
    documents.delete_document(attachment=attachment, by=user)
    messages.success(request, _("Document %(name)s deleted.") % {"name": name})
    target = request.POST.get("next", "")
    if target == reverse("documents:list", args=[customer_id]):
        return redirect(target)
    return redirect("customers:detail", pk=customer_id)
