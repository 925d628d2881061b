"""The import wizard: upload → columns → check (dry run) → duplicates → run → result."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cartera.accounts.models import User
from cartera.customers.models import Customer
from cartera.transfer import services
from cartera.transfer.fields import field_choices
from cartera.transfer.models import DuplicatePolicy, Import, MappingTemplate, written_rows
from cartera.transfer.sample import template_response


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Spreadsheet (CSV, XLSX or ODS)"))
    template = forms.ModelChoiceField(
        label=gettext_lazy("Saved columns"),
        queryset=MappingTemplate.objects.none(),
        required=False,
        empty_label=gettext_lazy("Recognise them from the headers"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = MappingTemplate.objects.filter(  # type: ignore[attr-defined]
            created_by=user
        )


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    if not request.user.can_write:
        raise PermissionDenied
    return request.user


def _import(request: HttpRequest, pk: int) -> Import:
    return get_object_or_404(services.imports_of(_user(request)), pk=pk)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Upload a file; the user's recent imports below."""
    user = _user(request)
    form = UploadForm(user=user)
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.create_import(file=upload, name=upload.name, by=user,
                                               template=form.cleaned_data["template"])  # fmt: skip
            except services.ImportInvalid as exc:
                for message in exc.messages_by_field.get("file", exc.messages):
                    form.add_error("file", message)
            else:
                return redirect("transfer:detail", pk=batch.pk)
        status = 422
    recent = services.imports_of(user).select_related("created_by")[:20]
    context = {"form": form, "recent": recent, "nav": "import",
               "max_mb": services.max_upload_bytes() // 2**20}  # fmt: skip
    return render(request, "transfer/start.html", context, status=status)


@login_required
def template(request: HttpRequest) -> HttpResponse:
    """An empty XLSX with the recognised headers and a sheet of instructions."""
    _user(request)
    return template_response()


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The step the import is at: columns, progress, report and policy, or the result."""
    batch = _import(request, pk)
    context: dict[str, Any] = {"batch": batch, "nav": "import"}
    again = batch.status == "checked" and request.GET.get("columns") == "1"  # to change them
    if (batch.status in ("uploaded", "failed", "cancelled") or again) and not batch.created_count:
        context["columns"] = _columns(batch)
        context["choices"] = field_choices()
    if batch.status == "checked":
        context["policies"] = DuplicatePolicy.choices
    if batch.status in ("done", "cancelled", "failed", "undone") and batch.created_count:
        rows = written_rows(batch)
        visible = Customer.objects.visible_to(request.user)
        first = rows.order_by("row").values("customer_id")[:50]  # in the file's order
        context["customers"] = (
            visible.filter(pk__in=first)
            .only("id", "code", "legal_name", "trade_name")
            .order_by("code")
        )
    return render(request, "transfer/detail.html", context)


def _columns(batch: Import) -> list[dict[str, Any]]:
    sample = (batch.options or {}).get("sample") or []
    return [
        {"index": str(i), "header": header, "field": batch.mapping.get(str(i), ""),
         "sample": sample[i] if i < len(sample) else ""}
        for i, header in enumerate(batch.headers)
    ]  # fmt: skip


@login_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled by htmx; once the work is over the page reloads."""
    batch = _import(request, pk)
    response = render(request, "transfer/_progress.html", {"batch": batch})
    if not batch.is_active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the columns chosen and start the check."""
    batch = _import(request, pk)
    user = _user(request)
    chosen = {str(i): request.POST.get(f"column-{i}", "") for i in range(len(batch.headers))}
    try:
        services.set_mapping(batch=batch, mapping=chosen, by=user,
                             save_as=request.POST.get("save_as", ""))  # fmt: skip
        services.start_check(batch=batch, by=user)
    except services.ImportInvalid as exc:
        context = {"batch": batch, "nav": "import", "choices": field_choices(),
                   "columns": [{**c, "field": chosen.get(c["index"], "")} for c in _columns(batch)],
                   "errors": [m for ms in exc.messages_by_field.values() for m in ms],
                   "save_as": request.POST.get("save_as", "")}  # fmt: skip
        return render(request, "transfer/detail.html", context, status=422)
    if saved := services.template_name(request.POST.get("save_as", "")):
        messages.success(request, _("Columns saved as “%(name)s”.") % {"name": saved})
    return redirect("transfer:detail", pk=batch.pk)


@login_required
@require_POST
def run(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _import(request, pk)
    try:
        services.start_run(batch=batch, by=_user(request), policy=request.POST.get("policy", ""))
    except services.ImportInvalid as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfer:detail", pk=batch.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _import(request, pk)
    try:
        services.cancel(batch=batch, by=_user(request))
        messages.info(request, _("The import stops after the rows it is writing now."))
    except services.ImportInvalid as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfer:detail", pk=batch.pk)


@login_required
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _import(request, pk)
    try:
        count = services.undo(batch=batch, by=_user(request))
        messages.success(
            request, _("Import undone: %(count)s customers deleted.") % {"count": count}
        )
    except services.ImportInvalid as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfer:detail", pk=batch.pk)


@login_required
def errors(request: HttpRequest, pk: int) -> FileResponse:
    """The invalid rows with their errors, to fix and upload again."""
    batch = _import(request, pk)
    if not batch.error_file:
        raise Http404
    name = f"{batch.file_name.rsplit('.', 1)[0]}-errores.csv"
    response = FileResponse(batch.error_file.open("rb"), as_attachment=True, filename=name,
                            content_type="text/csv; charset=utf-8")  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    return response
