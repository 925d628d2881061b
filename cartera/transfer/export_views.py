"""Pages of the export: choose columns and format for the list (or a segment), download it;
a customer's contacts as vCards from the ficha."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cartera.accounts.models import User
from cartera.core.pagination import count_up_to
from cartera.customers.models import Customer, Segment
from cartera.customers.segments import FilterDescriber, clean_query, name_refused
from cartera.transfer import export
from cartera.transfer.export import Export, ExportInvalid

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        widget=forms.RadioSelect,
        choices=[
            ("csv", gettext_lazy("CSV (spreadsheets, other programs)")),
            ("xlsx", gettext_lazy("Excel workbook (XLSX)")),
            ("vcf", gettext_lazy("vCard: the contacts of these customers")),
        ],
    )
    columns = forms.MultipleChoiceField(
        label=gettext_lazy("Columns"), required=False, widget=forms.CheckboxSelectMultiple
    )
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, columns: list[export.Column], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.available = columns
        self.fields["columns"].choices = [(c.key, c.label) for c in columns]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("format") in ("csv", "xlsx") and not data.get("columns"):
            self.add_error("columns", _("Choose at least one column."))
        return data

    def groups(self) -> list[tuple[str, list[tuple[str, str, bool]]]]:
        """The column checkboxes by group: (group, [(key, label, checked)])."""
        value = self["columns"].value() or []
        chosen = set(value if isinstance(value, list | tuple) else [value])
        grouped: dict[str, list[tuple[str, str, bool]]] = {}
        for column in self.available:
            item = (column.key, str(column.label), column.key in chosen)
            grouped.setdefault(str(column.group), []).append(item)
        return list(grouped.items())


def export_response(item: Export) -> HttpResponseBase:
    """The file of an export: CSV and vCard streamed, XLSX from a temporary file."""
    if item.format == "xlsx":
        return FileResponse(
            export.write_xlsx(item),
            as_attachment=True,
            filename=item.filename,
            content_type=CONTENT_TYPES["xlsx"],
        )
    chunks = export.csv_chunks(item) if item.format == "csv" else export.vcard_chunks(item)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[item.format])
    response["Content-Disposition"] = f'attachment; filename="{item.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _page(
    request: HttpRequest,
    form: ExportForm,
    *,
    segment: Segment | None,
    status: int = 200,
    refused: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The export page; filters that are refused (``refused``, or found now) are named on it
    by their labels and answer 422."""
    user = _user(request)
    query = segment.query if segment else str(form["query"].value() or "")
    describer = FilterDescriber(user)
    refused = dict(refused or {})
    count = None
    if not form.errors.get("query"):
        try:
            customers = export.customers_for(user=user, query=query, segment=segment)
        except ExportInvalid as exc:
            refused.update(exc.messages_by_field)
        else:
            count = count_up_to(customers, settings.CARTERA_MAX_COUNT)
    if refused:
        status = 422
    if segment is not None:
        back = reverse("segments:open", args=[segment.pk])
        action = reverse("export:segment_download", args=[segment.pk])
    else:
        back = reverse("customers:list") + (f"?{query}" if query else "")
        action = reverse("export:download")
    context = {
        "form": form,
        "segment": segment,
        "filters": describer(clean_query(query)),
        "filter_errors": list(name_refused(describer.form, refused).values()),
        "count": count,
        "back": back,
        "action": action,
        "nav": "customers",
    }
    return render(request, "transfer/export.html", context, status=status)


def _initial_form(query: str) -> ExportForm:
    initial = {"format": "csv", "columns": list(export.DEFAULT_COLUMNS), "query": query}
    return ExportForm(initial=initial, columns=export.available_columns())


def _download(request: HttpRequest, segment: Segment | None) -> HttpResponseBase:
    form = ExportForm(request.GET, columns=export.available_columns())
    if not form.is_valid():
        return _page(request, form, segment=segment, status=422)
    try:
        item = export.start_export(
            user=_user(request),
            format=form.cleaned_data["format"],
            columns=form.cleaned_data["columns"],
            query="" if segment else form.cleaned_data["query"],
            segment=segment,
        )
    except ExportInvalid as exc:
        # The format and the columns are this form's; anything else is a filter of the list,
        # which the page names by its label.
        refused: dict[str, list[str]] = {}
        for name, messages in exc.messages_by_field.items():
            if name in form.fields and name != "query":
                for message in messages:
                    form.add_error(name, message)
            else:
                refused[name] = messages
        return _page(request, form, segment=segment, status=422, refused=refused)
    return export_response(item)


@login_required
@require_GET
def customers_export(request: HttpRequest) -> HttpResponse:
    """The export form for the customer list with its current filters (the query string)."""
    if request.headers.get("HX-Request"):
        # The list's filter form, sent by htmx through its Export button: open the page.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = request.get_full_path()
        return response
    return _page(request, _initial_form(export.list_query(request.GET)), segment=None)


@login_required
@require_GET
def customers_download(request: HttpRequest) -> HttpResponseBase:
    return _download(request, None)


def _segment(request: HttpRequest, pk: int) -> Segment:
    return get_object_or_404(Segment.objects.visible_to(request.user), pk=pk)


@login_required
@require_GET
def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    return _page(request, _initial_form(""), segment=segment)


@login_required
@require_GET
def segment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    return _download(request, _segment(request, pk))


@login_required
@require_GET
def customer_vcard(request: HttpRequest, pk: int) -> HttpResponse:
    """The contacts of one customer as a vCard file (from the ficha)."""
    customer = get_object_or_404(Customer.objects.visible_to(_user(request)), pk=pk)
    body = export.customer_vcards(customer, by=_user(request))
    response = HttpResponse(body, content_type=CONTENT_TYPES["vcf"])
    filename = f"{_('contacts')}-{customer.code or customer.pk}.vcf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
