"""Segments: the customer list's filters saved under a name, private or shared.

A segment keeps only the list's query string. Opening it runs that query through the
same filter as the list, always starting from the customers the *reader* may see: a
shared segment never shows anyone more than their own list would. A filter the list refuses
(a stage that does not exist, an import the reader may not see) is refused when the segment is
saved, and wherever a whole segment is used (opened, exported, listed by the API, changed in
bulk): never taken as "no filter". Opened, such a segment shows no one and says why.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from cartera.accounts.models import User
from cartera.audit import services as audit
from cartera.audit.models import Action
from cartera.customers.filters import CustomerFilter
from cartera.customers.models import Customer, CustomerQuerySet, Segment
from cartera.customers.validation import CustomerInvalid

# Parameters of the list that are not filters: how it is shown, not what it holds.
NOT_FILTERS = frozenset({"page", "sort", "segment", "page_size"})
MAX_QUERY_LENGTH = 4000


class SegmentInvalid(CustomerInvalid):
    """A segment's name or filters were refused; ``errors`` maps fields to messages."""


def clean_query(query: str | QueryDict) -> str:
    """The filter part of a list query string, without paging, sorting or empty values."""
    params = query if isinstance(query, QueryDict) else QueryDict(query.lstrip("?"))
    kept = QueryDict(mutable=True)
    for name in sorted(params):
        if name in NOT_FILTERS:
            continue
        values = [v for v in params.getlist(name) if v.strip()]
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


def segment_filter(segment: Segment | str, *, user: User) -> CustomerFilter:
    """The list filter a segment (or a query string) stands for, as seen by ``user``."""
    query = segment.query if isinstance(segment, Segment) else segment
    return CustomerFilter(data=QueryDict(query), user=user)


def refused_filters(form: CustomerFilter) -> dict[str, list[str]]:
    """What the list would ignore of ``form``'s query, by name: invalid values, and names that
    are no filter (misspelt, or a custom field no longer in use). Empty when it takes it all."""
    refused = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    for name in form.data:
        if name not in form.fields and name not in NOT_FILTERS:
            refused[name] = [_("There is no such filter.")]
    return refused


def name_refused(form: CustomerFilter, refused: dict[str, list[str]]) -> dict[str, str]:
    """Each refused filter said as the list names it: "Stage: Select a valid choice…"."""
    said = {}
    for name, messages in refused.items():
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else name
        said[name] = _("%(filter)s: %(errors)s") % {"filter": label, "errors": " ".join(messages)}
    return said


def checked_filter(segment: Segment | str, *, user: User) -> CustomerFilter:
    """Like ``segment_filter``, but a filter the list would ignore is refused:
    ``SegmentInvalid`` keyed by the filter's name (see ``refused_filters``)."""
    form = segment_filter(segment, user=user)
    if refused := refused_filters(form):
        raise SegmentInvalid(refused)
    return form


def segment_customers(
    segment: Segment | str,
    *,
    user: User,
    queryset: CustomerQuerySet | None = None,
    strict: bool = False,
) -> tuple[CustomerQuerySet, CustomerFilter]:
    """The customers of a segment that ``user`` may see, sorted like the list; ``strict``
    refuses a filter the list would ignore (see ``checked_filter``)."""
    base = queryset if queryset is not None else Customer.objects.visible_to(user)
    form = (checked_filter if strict else segment_filter)(segment, user=user)
    return form.apply(base), form


class FilterDescriber:
    """Says a segment's filters in words ("Stage: Client"), reading each choice list once."""

    def __init__(self, user: User) -> None:
        self.form = CustomerFilter(user=user)
        self._choices: dict[str, dict[str, str]] = {}

    def _labels(self, name: str, field: forms.Field) -> dict[str, str]:
        if name not in self._choices:
            found: dict[str, str] = {}
            choices = getattr(field, "choices", None) or getattr(field.widget, "choices", None)
            for key, label in choices or ():
                if isinstance(label, list | tuple):  # a group of choices
                    found.update((str(k), str(v)) for k, v in label)
                else:
                    found[str(key)] = str(label)
            self._choices[name] = found
        return self._choices[name]

    def __call__(self, query: str) -> list[str]:
        params = QueryDict(query)
        said = []
        for name in params:
            field = self.form.fields.get(name)
            if field is None or name in NOT_FILTERS:
                continue
            values = params.getlist(name)
            if isinstance(field, forms.BooleanField) and not isinstance(
                field, forms.NullBooleanField
            ):
                values = [_("yes")]
            elif isinstance(field, forms.ChoiceField | forms.NullBooleanField):
                labels = self._labels(name, field)
                values = [labels.get(v, v) for v in values]
            said.append(f"{field.label}: {', '.join(values)}")
        return said


def _check(name: str, query: str, *, by: User, new_query: bool = True) -> tuple[str, str]:
    """The name and filters to save; the filters are checked as ``by``'s list reads them when
    they are new (a segment renamed keeps the filters it has)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the segment a name.")]
    elif len(name) > 100:
        errors["name"] = [_("This text is too long.")]
    query = clean_query(query or "")
    if len(query) > MAX_QUERY_LENGTH:
        errors["query"] = [_("These filters are too long to save.")]
    elif not query:
        errors["query"] = [_("Choose at least one filter to save as a segment.")]
    elif new_query:
        form = segment_filter(query, user=by)
        for filter_name, said in name_refused(form, refused_filters(form)).items():
            errors[f"query.{filter_name}"] = [said]
    if errors:
        raise SegmentInvalid(errors)
    return name, query


def _record(segment: Segment, action: str, by: User, changes: dict[str, Any]) -> None:
    audit.record(
        action=action,
        object_type="segment",
        object_id=segment.pk,
        label=segment.name,
        by=by,
        changes=changes,
    )


def may_change(segment: Segment, user: User) -> bool:
    """Only the owner renames or refilters a segment."""
    return user.is_active and segment.owner_id == user.pk


def may_delete(segment: Segment, user: User) -> bool:
    """The owner deletes their segment; managers and admins also tidy up shared ones."""
    return may_change(segment, user) or (segment.shared and user.sees_whole_portfolio)


@transaction.atomic
def create_segment(*, name: str, query: str, by: User, shared: bool = False) -> Segment:
    """Save the list's filters under a name; shared segments are offered to everyone."""
    if not by.is_active:
        raise PermissionDenied
    name, query = _check(name, query, by=by)
    segment = Segment.objects.create(name=name, query=query, shared=shared, owner=by)
    _record(segment, Action.CREATE, by, {"name": [None, name], "query": [None, query]})
    return segment


@transaction.atomic
def update_segment(
    *,
    segment: Segment,
    by: User,
    name: str | None = None,
    query: str | None = None,
    shared: bool | None = None,
) -> Segment:
    """Rename a segment, change its filters or who it is shared with (its owner only)."""
    if not may_change(segment, by):
        raise PermissionDenied
    before = audit.snapshot(segment, ("name", "query", "shared"))
    new_name, new_query = _check(
        segment.name if name is None else name,
        segment.query if query is None else query,
        by=by,
        new_query=query is not None and clean_query(query) != segment.query,
    )
    segment.name, segment.query = new_name, new_query
    if shared is not None:
        segment.shared = shared
    segment.save()
    if changes := audit.diff(before, audit.snapshot(segment, ("name", "query", "shared"))):
        _record(segment, Action.UPDATE, by, changes)
    return segment


@transaction.atomic
def delete_segment(*, segment: Segment, by: User) -> None:
    """Delete a segment: the customers it selects are not touched."""
    if not may_delete(segment, by):
        raise PermissionDenied
    _record(segment, Action.DELETE, by, {"name": [segment.name, None]})
    segment.delete()
