"""Changes to many customers at once, and the hand-over of a leaving person's portfolio.

Each action is one transaction of set-based updates in chunks; every changed customer
gets its version bumped and its own line in the history. Only customers the user may
edit are touched, whatever ids were posted, and an action refuses more than
``CARTERA_BULK_MAX`` customers. Other apps (activities) register their own actions and
their part of a hand-over here, so the register never depends on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cartera.accounts.models import Role, User
from cartera.audit import services as audit
from cartera.audit.models import Action, AuditEvent
from cartera.customers.models import Customer, CustomerGroup, CustomerQuerySet, Tag
from cartera.customers.segments import segment_customers
from cartera.customers.services import reassign_customers
from cartera.customers.validation import CustomerInvalid

CHUNK = 500


class BulkInvalid(CustomerInvalid):
    """A bulk action was refused: its parameters, or too many customers."""


def bulk_limit() -> int:
    return int(getattr(settings, "CARTERA_BULK_MAX", 10_000))


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- Actions -----------------------------------------------------------------------------


class BulkAction:
    """One thing to do to many customers: its parameters, whom it changes, how."""

    name: str = ""
    label: str | Promise = ""

    def allowed(self, user: User) -> bool:
        return user.can_write

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        """The action's parameters (none by default)."""
        return forms.Form(data)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        """The customers the action would change (those already so are left out)."""
        raise NotImplementedError

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        raise NotImplementedError

    def describe(self, params: Mapping[str, Any]) -> str:
        return str(self.label)


_ACTIONS: dict[str, BulkAction] = {}


def register_action(action: BulkAction) -> None:
    _ACTIONS[action.name] = action


def actions_for(user: User) -> list[BulkAction]:
    return [a for a in _ACTIONS.values() if a.allowed(user)]


def get_action(name: str) -> BulkAction | None:
    return _ACTIONS.get(name)


def selection(
    *, user: User, query: str, ids: Iterable[int] = (), everything: bool = False
) -> CustomerQuerySet:
    """The chosen customers the user may see: the rows ticked, or all matching the filters
    (then a filter the list would ignore is refused, ``SegmentInvalid``, rather than taken
    as no filter)."""
    customers, _form = segment_customers(query, user=user, strict=everything)
    if not everything:
        customers = customers.filter(pk__in=list(ids))
    return customers


@dataclass(frozen=True)
class Preview:
    """What an action would do, told before it is confirmed."""

    selected: int  # chosen and visible (counted up to the limit + 1)
    editable: int  # of those, the ones the user may change
    changing: int  # of those, the ones the action would actually change
    limit: int

    @property
    def too_many(self) -> bool:
        return self.changing > self.limit


def _count(queryset: QuerySet[Any], limit: int) -> int:
    return queryset.order_by()[: limit + 1].count()


def preview(
    action: BulkAction, *, customers: CustomerQuerySet, params: Mapping[str, Any], by: User
) -> Preview:
    limit = bulk_limit()
    editable = customers.editable_by(by)
    return Preview(
        selected=_count(customers, limit),
        editable=_count(editable, limit),
        changing=_count(action.pending(editable, params), limit),
        limit=limit,
    )


def preview_selection(*, customers: CustomerQuerySet, by: User) -> Preview:
    """The selection told before the action's details are chosen: nothing changing yet."""
    limit = bulk_limit()
    editable = _count(customers.editable_by(by), limit)
    return Preview(selected=_count(customers, limit), editable=editable, changing=-1, limit=limit)


def too_many_message(limit: int) -> str:
    return _(
        "This would change more than %(limit)s customers, the most one action may change. "
        "Narrow the selection with more filters and repeat the action for each part."
    ) % {"limit": f"{limit:,}".replace(",", ".")}


@transaction.atomic
def run_action(
    action: BulkAction, *, customers: CustomerQuerySet, params: Mapping[str, Any], by: User
) -> int:
    """Apply an action to the chosen customers the user may edit; how many changed."""
    if not action.allowed(by):
        raise PermissionDenied
    limit = bulk_limit()
    targets = action.pending(customers.editable_by(by), params)
    ids = list(
        targets.order_by("pk")
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)[: limit + 1]
    )
    if len(ids) > limit:
        raise BulkInvalid({"__all__": [too_many_message(limit)]})
    if not ids:
        return 0
    return action.run(ids=ids, params=params, by=by)


def bump(ids: Sequence[int], *, by: User, **values: Any) -> None:
    """Set fields of many customers, a new version each, in chunks."""
    now = timezone.now()
    for chunk in chunks(ids):
        Customer.objects.filter(pk__in=chunk).update(
            **values, updated_by=by, version=F("version") + 1, updated_at=now
        )


def rows(ids: Sequence[int], *fields: str) -> list[tuple[Any, ...]]:
    """(pk, code, version, *fields) of the customers, read in chunks before a change."""
    found: list[tuple[Any, ...]] = []
    for chunk in chunks(ids):
        found += Customer.objects.filter(pk__in=chunk).values_list("pk", "code", "version", *fields)
    return found


def customer_event(
    pk: int, code: str, version: int, *, by: User, changes: dict[str, Any]
) -> AuditEvent:
    return audit.event(
        action=Action.BULK_UPDATE,
        object_type="customer",
        object_id=pk,
        label=code,
        customer_id=pk,
        by=by,
        changes=changes,
        version=version,
    )


def _set_field(
    ids: list[int], field: str, value: Any, *, by: User, show: Callable[[Any], Any]
) -> int:
    before = rows(ids, field)
    bump(ids, by=by, **{field: value})
    audit.record_all(
        customer_event(pk, code, version + 1, by=by, changes={field: [show(old), show(value)]})
        for pk, code, version, old in before
    )
    return len(before)


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=gettext_lazy("New owner"), queryset=User.objects.none())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        receivers = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
        self.fields["owner"].queryset = receivers  # type: ignore[attr-defined]


class AssignOwner(BulkAction):
    name = "assign_owner"
    label = gettext_lazy("Assign to another owner")

    def allowed(self, user: User) -> bool:
        return user.can_assign_owners

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        return OwnerForm(data, user=user)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        return customers.exclude(owner=params["owner"])

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        return reassign_customers(
            customers=Customer.objects.filter(pk__in=ids), to=params["owner"], by=by
        )

    def describe(self, params: Mapping[str, Any]) -> str:
        return _("Assign to %(name)s") % {"name": params["owner"]}


class TagForm(forms.Form):
    tag = forms.CharField(label=gettext_lazy("Tag"), max_length=50)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def clean_tag(self) -> str:
        name = " ".join(self.cleaned_data["tag"].split())
        if not name:
            raise forms.ValidationError(_("This field is required."))
        return name


def _tags_of(ids: Sequence[int]) -> dict[int, list[str]]:
    through = Customer.tags.through
    found: dict[int, list[str]] = {pk: [] for pk in ids}
    for chunk in chunks(ids):
        for pk, name in through.objects.filter(customer_id__in=chunk).values_list(
            "customer_id", "tag__name"
        ):
            found[pk].append(name)
    return found


def _has_tag(name: str) -> Exists:
    return Exists(
        Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag__name__iexact=name)
    )


class AddTag(BulkAction):
    name = "add_tag"
    label = gettext_lazy("Add a tag")

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        return TagForm(data, user=user)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        return customers.exclude(_has_tag(params["tag"]))

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        tag = Tag.objects.filter(name__iexact=params["tag"]).first()
        if tag is None:
            tag = Tag.objects.create(name=params["tag"])
        before = _tags_of(ids)
        through = Customer.tags.through
        for chunk in chunks(ids):
            through.objects.bulk_create(
                [through(customer_id=pk, tag_id=tag.pk) for pk in chunk], ignore_conflicts=True
            )
        return _record_tags(ids, before, lambda names: sorted([*names, tag.name]), by=by)

    def describe(self, params: Mapping[str, Any]) -> str:
        return _("Add the tag “%(tag)s”") % {"tag": params["tag"]}


class RemoveTag(AddTag):
    name = "remove_tag"
    label = gettext_lazy("Remove a tag")

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        return customers.filter(_has_tag(params["tag"]))

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        folded = params["tag"].casefold()
        before = _tags_of(ids)
        through = Customer.tags.through
        for chunk in chunks(ids):
            through.objects.filter(customer_id__in=chunk, tag__name__iexact=params["tag"]).delete()
        return _record_tags(
            ids, before, lambda names: sorted(n for n in names if n.casefold() != folded), by=by
        )

    def describe(self, params: Mapping[str, Any]) -> str:
        return _("Remove the tag “%(tag)s”") % {"tag": params["tag"]}


def _record_tags(
    ids: list[int],
    before: dict[int, list[str]],
    after: Callable[[list[str]], list[str]],
    *,
    by: User,
) -> int:
    """Tags are part of the record: a new version and a line in each customer's history."""
    versions = rows(ids)
    bump(ids, by=by)
    audit.record_all(
        customer_event(
            pk, code, version + 1, by=by,
            changes={"tags": [sorted(before[pk]), after(before[pk])]},
        )
        for pk, code, version in versions
    )  # fmt: skip
    return len(versions)


class GroupForm(forms.Form):
    group = forms.ModelChoiceField(
        label=gettext_lazy("Group"),
        queryset=CustomerGroup.objects.all(),
        required=False,
        empty_label=gettext_lazy("No group"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class SetGroup(BulkAction):
    name = "set_group"
    label = gettext_lazy("Put in a group")

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        return GroupForm(data, user=user)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        group = params.get("group")
        if group is None:
            return customers.filter(group__isnull=False)
        return customers.filter(Q(group__isnull=True) | ~Q(group=group))

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        group = params.get("group")
        names = dict(CustomerGroup.objects.values_list("pk", "name"))
        return _set_field(
            ids, "group", group, by=by,
            show=lambda g: None if g is None else (g.name if isinstance(g, CustomerGroup)
                                                   else names.get(g)),
        )  # fmt: skip

    def describe(self, params: Mapping[str, Any]) -> str:
        if params.get("group") is None:
            return _("Take out of their group")
        return _("Put in the group %(group)s") % {"group": params["group"]}


class FollowUpForm(forms.Form):
    follow_up = forms.TypedChoiceField(
        label=gettext_lazy("Follow-up"),
        choices=[("1", gettext_lazy("Mark for follow-up")), ("0", gettext_lazy("No follow-up"))],
        coerce=lambda v: v == "1",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class SetFollowUp(BulkAction):
    name = "set_follow_up"
    label = gettext_lazy("Mark or unmark for follow-up")

    def form(self, data: Mapping[str, Any] | None, *, user: User) -> forms.Form:
        return FollowUpForm(data, user=user)

    def pending(self, customers: CustomerQuerySet, params: Mapping[str, Any]) -> CustomerQuerySet:
        return customers.exclude(follow_up=params["follow_up"])

    def run(self, *, ids: list[int], params: Mapping[str, Any], by: User) -> int:
        return _set_field(ids, "follow_up", params["follow_up"], by=by, show=bool)

    def describe(self, params: Mapping[str, Any]) -> str:
        return _("Mark for follow-up") if params["follow_up"] else _("Remove the follow-up mark")


for _action in (AssignOwner(), AddTag(), RemoveTag(), SetGroup(), SetFollowUp()):
    register_action(_action)


# --- Hand-over of a leaving person's portfolio --------------------------------------------


@dataclass(frozen=True)
class HandoverPart:
    """Work besides customers that a person holds and hands over (e.g. open tasks)."""

    name: str
    # The users who still hold such work (a queryset of user ids).
    holders: Callable[[], QuerySet[Any]]
    count: Callable[[User], int]
    # (leaving=, to=, by=, work_to=) → how many moved; ``work_to`` None: follow the owner.
    hand_over: Callable[..., int]
    message: Callable[[int], str]  # "3 open tasks handed over."
    held: Callable[[int], str]  # "3 open tasks"


_HANDOVER_PARTS: dict[str, HandoverPart] = {}


def register_handover_part(part: HandoverPart) -> None:
    _HANDOVER_PARTS[part.name] = part


def handover_parts() -> list[HandoverPart]:
    return list(_HANDOVER_PARTS.values())


def holders() -> QuerySet[User]:
    """People who still own customers or hold other work to hand over."""
    condition = Q(owned_customers__isnull=False)
    for part in _HANDOVER_PARTS.values():
        condition |= Q(pk__in=part.holders())
    return User.objects.filter(
        pk__in=User.objects.filter(condition).values("pk")
    ).order_by("first_name", "username")  # fmt: skip


def holdings(user: User) -> list[str]:
    """What a person still holds, said in words ("12 customers", "3 open tasks")."""
    owned = Customer.objects.filter(owner=user).count()
    said = [ngettext("%(count)s customer", "%(count)s customers", owned) % {"count": owned}]
    for part in _HANDOVER_PARTS.values():
        if count := part.count(user):
            said.append(part.held(count))
    return said


@dataclass(frozen=True)
class HandoverResult:
    customers: int
    parts: dict[str, int]

    def message(self) -> str:
        said = [
            ngettext(
                "%(count)s customer handed over.", "%(count)s customers handed over.",
                self.customers,
            ) % {"count": self.customers}
        ]  # fmt: skip
        said += [_HANDOVER_PARTS[name].message(n) for name, n in self.parts.items() if n]
        return " ".join(said)


@transaction.atomic
def hand_over_portfolio(
    *, leaving: User, to: User, by: User, work_to: User | None = None
) -> HandoverResult:
    """Every customer of ``leaving`` to ``to``; their other work (open tasks) to ``work_to``,
    or by default to whoever owns each customer afterwards. Nothing is left without owner.
    """
    if not by.can_assign_owners:
        raise PermissionDenied
    if leaving == to:
        raise BulkInvalid({"to_owner": [_("Choose someone else.")]})
    # All of them, archived and blocked ones too: the portfolio belongs to the company.
    moved = reassign_customers(customers=Customer.objects.filter(owner=leaving), to=to, by=by)
    parts = {
        name: part.hand_over(leaving=leaving, to=to, by=by, work_to=work_to)
        for name, part in _HANDOVER_PARTS.items()
    }
    return HandoverResult(customers=moved, parts=parts)
