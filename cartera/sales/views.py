"""Pages of the catalogue and of the sales documents."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cartera.accounts.models import User
from cartera.core.pagination import BoundedPaginator
from cartera.customers.models import Customer
from cartera.sales import catalogue, services
from cartera.sales.forms import (
    LINE_ROWS,
    BaseLineFormSet,
    DocumentForm,
    LineFormSet,
    ProductForm,
    apply_errors,
    apply_line_errors,
)
from cartera.sales.models import (
    STATES,
    DocumentState,
    DocumentType,
    Product,
    SalesDocument,
)
from cartera.sales.pdf import render_pdf
from cartera.sales.pricing import compute_totals


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Catalogue --------------------------------------------------------------------------------


def _catalogue_editor(request: HttpRequest) -> User:
    user = _user(request)
    if not catalogue.may_edit_catalogue(user):
        raise PermissionDenied
    return user


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue: everyone reads it, managers and administrators change it."""
    products = Product.objects.order_by("code")
    q = request.GET.get("q", "").strip()[:100]
    if q:
        products = products.filter(code__icontains=q) | products.filter(name__icontains=q)
    if request.GET.get("inactive") != "1":
        products = products.filter(is_active=True)
    page = BoundedPaginator(products, settings.CARTERA_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/products.html",
        {
            "page": page,
            "q": q,
            "can_edit": catalogue.may_edit_catalogue(_user(request)),
            "nav": "sales",
        },
    )


def _product_form(request: HttpRequest, product: Product | None) -> HttpResponse:
    user = _catalogue_editor(request)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in catalogue.FIELDS}
        try:
            saved = catalogue.save_product(
                product=product, data=data, by=user, special_prices=form.special_prices()
            )
        except services.SalesInvalid as exc:
            apply_errors(form, exc.messages_by_field)
        else:
            messages.success(request, _("Product saved."))
            return redirect("sales:product_edit", pk=saved.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "sales/product_form.html",
        {"form": form, "product": product, "nav": "sales"},
        status=status,
    )


@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    return _product_form(request, None)


@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _catalogue_editor(request)
    return _product_form(request, get_object_or_404(Product, pk=pk))


# --- Documents --------------------------------------------------------------------------------


def _document(request: HttpRequest, pk: int) -> SalesDocument:
    documents = SalesDocument.objects.visible_to(request.user).select_related(
        "customer", "owner", "source"
    )
    return get_object_or_404(documents, pk=pk)


@login_required
def document_list(request: HttpRequest) -> HttpResponse:
    """Quotes, orders and invoices of the customers the user sees, newest first."""
    user = _user(request)
    documents = SalesDocument.objects.visible_to(user).select_related("customer", "owner")
    doc_type = request.GET.get("type", "")
    if doc_type in DocumentType.values:
        documents = documents.filter(type=doc_type)
    state = request.GET.get("state", "")
    if state in DocumentState.values:
        documents = documents.filter(state=state)
    if request.GET.get("mine") == "1":
        documents = documents.filter(owner=user)
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        documents = documents.filter(customer_id=int(customer))
    documents = documents.order_by("-issue_date", "-id")
    page = BoundedPaginator(documents, settings.CARTERA_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/documents.html",
        {
            "page": page,
            "types": DocumentType.choices,
            "states": DocumentState.choices,
            "type": doc_type,
            "state": state,
            "nav": "sales",
        },
    )


def _products() -> Any:
    return Product.objects.filter(is_active=True).order_by("code")


def _pick_customer(request: HttpRequest, doc_type: str) -> HttpResponse:
    """No customer chosen yet: search the ones the user may sell to."""
    q = request.GET.get("q", "").strip()[:100]
    found: list[Customer] = []
    if q:
        found = list(Customer.objects.editable_by(_user(request)).current().search(q)[:20])
    return render(
        request,
        "sales/pick_customer.html",
        {"q": q, "found": found, "type": doc_type, "nav": "sales"},
    )


@login_required
def document_create(request: HttpRequest) -> HttpResponse:
    """A new quote, order or invoice (``?type=``) for a customer (``?customer=``)."""
    user = _user(request)
    if not user.can_write:
        raise PermissionDenied
    doc_type = request.GET.get("type", DocumentType.QUOTE)
    if doc_type not in DocumentType.values:
        doc_type = DocumentType.QUOTE
    customer_id = request.GET.get("customer", "")
    if not customer_id.isdigit():
        if request.method == "POST":
            return render(request, "sales/pick_customer.html", {"type": doc_type}, status=422)
        return _pick_customer(request, doc_type)
    customer = get_object_or_404(
        Customer.objects.visible_to(user).select_related("group", "owner"), pk=customer_id
    )
    if not Customer.objects.editable_by(user).filter(pk=customer.pk).exists():
        raise PermissionDenied
    initial = {"issue_date": timezone.localdate(), "owner": customer.owner_id}
    form = DocumentForm(request.POST or None, doc_type=doc_type, initial=initial)
    lines: BaseLineFormSet = LineFormSet(  # type: ignore[call-arg,assignment]
        request.POST or None,
        prefix="lines",
        products=_products(),
        initial=[{} for _row in range(LINE_ROWS)] if request.method != "POST" else None,
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() and lines.is_valid():
            try:
                document = services.create_document(
                    customer=customer,
                    doc_type=doc_type,
                    data=form.cleaned_data,
                    lines=lines.lines(),
                    by=user,
                )
            except services.SalesInvalid as exc:
                apply_errors(form, exc.messages_by_field)
                apply_line_errors(lines, exc.messages_by_field)
            else:
                messages.success(request, _("%(code)s saved.") % {"code": document.code})
                return redirect("sales:document", pk=document.pk)
    return render(
        request,
        "sales/document_form.html",
        {
            "form": form,
            "lines": lines,
            "customer": customer,
            "type": doc_type,
            "type_label": DocumentType(doc_type).label,
            "may_sell": services.may_get_new_work(customer),
            "nav": "sales",
        },
        status=status,
    )


@login_required
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = _document(request, pk)
    if not SalesDocument.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied
    if not document.is_editable:
        messages.error(request, _("Only drafts can be changed."))
        return redirect("sales:document", pk=pk)
    initial = {
        "issue_date": document.issue_date,
        "valid_until": document.valid_until,
        "due_date": document.due_date,
        "customer_reference": document.customer_reference,
        "owner": document.owner_id,
        "notes": document.notes,
    }
    form = DocumentForm(request.POST or None, doc_type=document.type, initial=initial)
    rows = [services.line_as_dict(line) for line in document.lines.all()]
    lines: BaseLineFormSet = LineFormSet(  # type: ignore[call-arg,assignment]
        request.POST or None,
        prefix="lines",
        products=_products(),
        initial=[*rows, {}, {}] if request.method != "POST" else None,
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() and lines.is_valid():
            try:
                services.update_document(
                    document=document, data=form.cleaned_data, lines=lines.lines(), by=user
                )
            except services.SalesInvalid as exc:
                apply_errors(form, exc.messages_by_field)
                apply_line_errors(lines, exc.messages_by_field)
            else:
                messages.success(request, _("%(code)s saved.") % {"code": document.code})
                return redirect("sales:document", pk=pk)
    return render(
        request,
        "sales/document_form.html",
        {
            "form": form,
            "lines": lines,
            "customer": document.customer,
            "document": document,
            "type": document.type,
            "type_label": document.get_type_display(),
            "may_sell": True,
            "nav": "sales",
        },
        status=status,
    )


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = _document(request, pk)
    lines = list(document.lines.select_related("product"))
    for line in lines:
        # Prices show their cents, and further decimals only when they have them.
        exponent = line.unit_price.normalize().as_tuple().exponent
        places = max(2, -exponent) if isinstance(exponent, int) else 2
        line.price_places = f"{places}g"  # type: ignore[attr-defined]
    totals = compute_totals((line.amount, line.tax_rate) for line in lines)
    can_edit = SalesDocument.objects.editable_by(user).filter(pk=pk).exists()
    derived = list(document.derived.order_by("id"))
    next_type = {DocumentType.QUOTE: DocumentType.ORDER, DocumentType.ORDER: DocumentType.INVOICE}
    states = dict(DocumentState.choices)
    return render(
        request,
        "sales/document.html",
        {
            "document": document,
            "lines": lines,
            "totals": totals,
            "can_edit": can_edit,
            "derived": derived,
            "convert_to": next_type.get(DocumentType(document.type)),
            "next_states": [(s, states[s]) for s in document.next_states()],
            "all_states": [(s, states[s]) for s in STATES[document.type]],
            "nav": "sales",
        },
    )


@login_required
def document_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    lines = list(document.lines.all())
    response = HttpResponse(render_pdf(document, lines), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.code}.pdf"'
    return response


@login_required
@require_POST
def document_state(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = _document(request, pk)
    try:
        services.change_state(document=document, to=request.POST.get("state", ""), by=user)
    except services.SalesInvalid as exc:
        for message_list in exc.messages_by_field.values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("State changed."))
    return redirect("sales:document", pk=pk)


@login_required
@require_POST
def document_convert(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = _document(request, pk)
    try:
        new = services.convert_document(
            document=document, to_type=request.POST.get("to", ""), by=user
        )
    except services.SalesInvalid as exc:
        for message_list in exc.messages_by_field.values():
            for message in message_list:
                messages.error(request, message)
        return redirect("sales:document", pk=pk)
    messages.success(request, _("%(code)s created.") % {"code": new.code})
    return redirect("sales:document", pk=new.pk)
