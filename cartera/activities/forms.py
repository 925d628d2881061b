"""The task form, shared by the ficha's panel, the agenda and the task page.

The form only parses input; ``services.create_task`` / ``update_task`` decide what is
valid and their errors are put back on these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import Role, User
from cartera.activities.models import Priority, RecurrenceUnit, Task, TaskType
from cartera.activities.services import ActivityInvalid
from cartera.customers.models import Contact, Customer

# Typed by hand (dd/mm/aaaa) or sent by a browser's date picker (ISO).
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%Y-%m-%d"]


def assignable_users(user: User, customer: Customer, current: Task | None = None) -> Any:
    """Who ``user`` may give a task of ``customer`` to.

    Managers and administrators: anyone who can work (not read-only, active). A
    salesperson: themselves, the customer's owner, the members of their own team, and
    whoever the task is already assigned to.
    """
    workers = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
    if user.can_assign_owners:
        return workers
    allowed = Q(pk__in=[pk for pk in (user.pk, customer.owner_id) if pk])
    if user.team_id:
        allowed |= Q(team_id=user.team_id)
    if current is not None:
        allowed |= Q(pk=current.assignee_id)
    return workers.filter(allowed)


class TaskForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=TaskType.choices, initial=TaskType.CALL)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_date = forms.DateField(
        label=_("Due date"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("dd/mm/yyyy"),
    )
    due_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    assignee = forms.ModelChoiceField(label=_("Assigned to"), queryset=User.objects.none())
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    private = forms.BooleanField(
        label=_("Private (only you and the assignee see it)"), required=False
    )
    recurrence_interval = forms.IntegerField(
        label=_("Repeat every"),
        required=False,
        min_value=1,
        max_value=365,
        widget=forms.NumberInput(attrs={"class": "narrow"}),
    )
    recurrence_unit = forms.ChoiceField(
        label=_("Repeat unit"),
        choices=[("", _("does not repeat")), *RecurrenceUnit.choices],
        required=False,
    )

    required_marks = ("type", "subject", "due_date", "assignee")

    def __init__(
        self,
        *args: Any,
        user: User,
        customer: Customer,
        task: Task | None = None,
        **kwargs: Any,
    ) -> None:
        if task is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(task)
        kwargs.setdefault(
            "initial",
            {"assignee": customer.owner_id, "due_date": timezone.localdate()},
        )
        super().__init__(*args, **kwargs)
        self.customer = customer
        assignee = self.fields["assignee"]
        contact = self.fields["contact"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assert isinstance(contact, forms.ModelChoiceField)
        assignee.queryset = assignable_users(user, customer, task)
        assignee.empty_label = None
        contact.queryset = Contact.objects.filter(customer=customer)
        contact.empty_label = "—"
        for name in self.required_marks:
            self.fields[name].widget.attrs["aria-required"] = "true"

    @staticmethod
    def initial_for(task: Task) -> dict[str, Any]:
        names = ("type", "subject", "description", "due_date", "due_time", "priority",
                 "private", "recurrence_interval", "recurrence_unit")  # fmt: skip
        initial = {name: getattr(task, name) for name in names}
        initial.update(assignee=task.assignee_id, contact=task.contact_id)
        return initial

    def is_required_mark(self, name: str) -> bool:
        return name in self.required_marks

    def to_data(self) -> dict[str, Any]:
        """The cleaned fields as the services take them."""
        return dict(self.cleaned_data)

    def apply_errors(self, exc: ActivityInvalid) -> None:
        """Put each of the service's messages on its field (or on the form)."""
        for path, messages in exc.messages_by_field.items():
            field: str | None = path if path in self.fields else None
            for message in messages:
                self.add_error(field, message)


class CompleteForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=4000)


class SnoozeForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=365, required=False)


class AgendaFilter(forms.Form):
    """The agenda's filters; managers and administrators may also see everyone's tasks."""

    who = forms.ChoiceField(label=_("Assigned to"), required=False)
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any type")), *TaskType.choices], required=False
    )
    q = forms.CharField(label=_("Customer"), required=False, max_length=200)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("me", _("Me")), ("team", _("My team"))]
        if user.sees_whole_portfolio:
            choices.append(("all", _("Everyone")))
        who = self.fields["who"]
        assert isinstance(who, forms.ChoiceField)
        who.choices = choices

    def value(self, name: str) -> Any:
        """A valid filter's value, or its empty value (an invalid filter is ignored)."""
        if not self.is_valid() and name in self.errors:
            return None
        return self.cleaned_data.get(name)
