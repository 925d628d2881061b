"""``?imported=<id>``: the customers an import created or updated, among those the user sees."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy

from cartera.accounts.models import User
from cartera.customers.models import CustomerQuerySet
from cartera.transfer.models import Import, ImportStatus, written_rows

# The imports that may have written customers (a cancelled or failed one keeps its batches).
WROTE = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED)


class ImportChoiceField(forms.ModelChoiceField):
    # The list shows it only when set (the import's page links to it): its choices are then
    # read, not on every page of the list.
    shown_when_set = True

    def label_from_instance(self, obj: Any) -> str:
        when = formats.date_format(timezone.localtime(obj.created_at), "SHORT_DATE_FORMAT")
        return f"{obj.file_name} · {when}"


class ImportFilter:
    name = "imported"

    def add_fields(self, form: forms.Form) -> None:
        from cartera.transfer.services import imports_of

        user = getattr(form, "user", None)
        imports = imports_of(user) if isinstance(user, User) else Import.objects.none()
        form.fields[self.name] = ImportChoiceField(
            label=gettext_lazy("Imported from"),
            required=False,
            queryset=imports.filter(status__in=WROTE).order_by("-created_at", "-id"),
            empty_label=gettext_lazy("Any file or none"),
        )

    def apply(self, queryset: CustomerQuerySet, data: dict[str, Any]) -> CustomerQuerySet:
        chosen = data.get(self.name)
        if not chosen:
            return queryset
        return queryset.filter(pk__in=written_rows(chosen).values("customer_id"))
