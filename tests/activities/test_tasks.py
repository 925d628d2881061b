"""Task rules: recurrence, the only-active rule for meetings and visits, who sees and changes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from cartera.accounts.models import User
from cartera.activities import services
from cartera.activities.forms import assignable_users
from cartera.activities.models import EntryKind, Task, TimelineEntry
from cartera.core.models import Company
from cartera.customers.models import Customer
from tests.conftest import bearer, make_customer, make_user

pytestmark = pytest.mark.django_db

D = datetime.date
FUTURE = D(2040, 1, 31)  # far ahead: "after" is the task's own date


def _task(customer: Customer, by: User, **data: Any) -> Task:
    fields = {"type": "call", "subject": "Llamar", "due_date": FUTURE} | data
    return services.create_task(customer=customer, data=fields, by=by)


def _following(task: Task) -> Task:
    return Task.objects.get(previous=task)


@pytest.mark.parametrize(
    ("start", "interval", "unit", "expected"),
    [
        (D(2040, 1, 10), 3, "day", [D(2040, 1, 13), D(2040, 1, 16)]),
        (D(2040, 1, 10), 2, "week", [D(2040, 1, 24), D(2040, 2, 7)]),
        # month ends: the 31st falls on the last day of shorter months, then comes back
        (D(2040, 1, 31), 1, "month", [D(2040, 2, 29), D(2040, 3, 31)]),
        (D(2041, 1, 31), 1, "month", [D(2041, 2, 28), D(2041, 3, 31)]),
        (D(2040, 3, 31), 1, "month", [D(2040, 4, 30), D(2040, 5, 31)]),
        (D(2040, 1, 30), 1, "month", [D(2040, 2, 29), D(2040, 3, 30)]),
        (D(2040, 1, 28), 1, "month", [D(2040, 2, 28), D(2040, 3, 28)]),
        (D(2040, 8, 31), 3, "month", [D(2040, 11, 30), D(2041, 2, 28)]),
        # a leap day, yearly: 28 February in common years
        (D(2040, 2, 29), 1, "year", [D(2041, 2, 28), D(2042, 2, 28)]),
    ],
)
def test_completing_a_recurring_task_schedules_the_next_ones(
    owner: User, start: datetime.date, interval: int, unit: str, expected: list[datetime.date]
) -> None:
    # given a recurring task
    customer = make_customer(owner)
    task = _task(
        customer, owner, due_date=start, recurrence_interval=interval, recurrence_unit=unit
    )

    # when it is done twice in a row
    services.complete_task(task=task, by=owner, outcome="Hablado")
    second = _following(task)
    services.complete_task(task=second, by=owner)
    third = _following(second)

    # then each next one falls on the series' next date, with the same settings
    assert [second.due_date, third.due_date] == expected
    assert (third.recurrence_interval, third.recurrence_unit) == (interval, unit)
    assert third.done_at is None and third.previous_id == second.pk
    task.refresh_from_db()
    assert task.outcome == "Hablado" and task.done_by == owner


def test_leap_day_series_comes_back_to_the_29th(owner: User) -> None:
    customer = make_customer(owner)
    task = _task(
        customer,
        owner,
        due_date=datetime.date(2040, 2, 29),
        recurrence_interval=1,
        recurrence_unit="year",
    )
    dates = []
    for _ in range(4):
        services.complete_task(task=task, by=owner)
        task = _following(task)
        dates.append(task.due_date)
    assert dates[-1] == datetime.date(2044, 2, 29)


def test_an_overdue_recurring_task_schedules_after_today(owner: User) -> None:
    # given a weekly task three weeks late
    today = timezone.localdate()
    customer = make_customer(owner)
    task = _task(
        customer,
        owner,
        due_date=today - datetime.timedelta(days=21),
        recurrence_interval=1,
        recurrence_unit="week",
    )

    # when it is done today
    services.complete_task(task=task, by=owner)

    # then the next one is the series' first date after today, not a date in the past
    assert _following(task).due_date == today + datetime.timedelta(days=7)


def test_completing_twice_does_not_repeat_the_series(owner: User) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner, recurrence_interval=1, recurrence_unit="day")
    services.complete_task(task=task, by=owner)
    services.complete_task(task=task, by=owner)
    assert Task.objects.filter(customer=customer).count() == 2


def test_reopen_and_snooze(owner: User) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner)
    services.complete_task(task=task, by=owner)
    services.reopen_task(task=task, by=owner)
    task.refresh_from_db()
    assert task.done_at is None
    services.snooze_task(task=task, by=owner, days=7)
    task.refresh_from_db()
    assert task.due_date == FUTURE + datetime.timedelta(days=7)
    with pytest.raises(services.ActivityInvalid) as exc:
        services.snooze_task(task=task, by=owner, days=0)
    assert "days" in exc.value.messages_by_field


@pytest.mark.parametrize("kind", ["meeting", "visit"])
@pytest.mark.parametrize("restrict", [True, False])
def test_meetings_and_visits_need_an_active_customer_when_the_company_says_so(
    owner: User, kind: str, restrict: bool
) -> None:
    # given an inactive customer
    company = Company.load()
    company.restrict_to_active = restrict
    company.save()
    customer = make_customer(owner)
    customer.status = "inactive"
    customer.save()

    # when a meeting or visit is planned with it
    if restrict:
        # then it is refused on the type field, and nothing is saved
        with pytest.raises(services.ActivityInvalid) as exc:
            _task(customer, owner, type=kind)
        assert list(exc.value.messages_by_field) == ["type"]
        assert not Task.objects.exists()
    else:
        assert _task(customer, owner, type=kind).type == kind
    # a call is always allowed
    assert _task(customer, owner, type="call").pk


def test_an_existing_meeting_of_a_customer_that_became_inactive_can_still_be_edited(
    owner: User,
) -> None:
    company = Company.load()
    company.restrict_to_active = True
    company.save()
    customer = make_customer(owner)
    meeting = _task(customer, owner, type="meeting")
    customer.status = "inactive"
    customer.save()
    services.update_task(task=meeting, data={"type": "meeting", "subject": "Otra hora"}, by=owner)
    meeting.refresh_from_db()
    assert meeting.subject == "Otra hora"
    with pytest.raises(services.ActivityInvalid):
        services.update_task(task=_task(customer, owner), data={"type": "visit"}, by=owner)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"type": "dance"}, "type"),
        ({"due_date": "mañana"}, "due_date"),
        ({"recurrence_interval": 2}, "recurrence_unit"),
        ({"recurrence_unit": "month"}, "recurrence_interval"),
        ({"recurrence_interval": 400, "recurrence_unit": "day"}, "recurrence_interval"),
    ],
)
def test_bad_task_input_names_the_field_and_saves_nothing(
    owner: User, data: dict[str, Any], field: str
) -> None:
    customer = make_customer(owner)
    with pytest.raises(services.ActivityInvalid) as exc:
        _task(customer, owner, **data)
    assert field in exc.value.messages_by_field
    assert not Task.objects.exists()


def test_the_assignee_defaults_to_the_owner_and_the_timeline_tells(
    owner: User, manager: User
) -> None:
    customer = make_customer(owner)
    task = _task(customer, manager)
    assert task.assignee == owner
    services.complete_task(task=task, by=owner)
    kinds = list(TimelineEntry.objects.filter(task=task).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([EntryKind.TASK_CREATED, EntryKind.TASK_DONE])


def test_a_reader_cannot_create_or_change_tasks(owner: User, reader: User) -> None:
    customer = make_customer(owner)
    with pytest.raises(PermissionDenied):
        _task(customer, reader)
    task = _task(customer, owner)
    with pytest.raises(PermissionDenied):
        services.complete_task(task=task, by=reader)
    assert not services.may_change_task(task, reader)


def test_an_outsider_cannot_touch_a_customer_they_do_not_see(
    owner: User, outsider: User, team_visibility: Company
) -> None:
    customer = make_customer(owner)
    with pytest.raises(PermissionDenied):
        _task(customer, outsider)
    task = _task(customer, owner)
    assert not Task.objects.visible_to(outsider).filter(pk=task.pk).exists()
    with pytest.raises(PermissionDenied):
        services.complete_task(task=task, by=outsider)


def test_a_private_task_is_seen_only_by_its_assignee_and_author(
    owner: User, teammate: User, manager: User, admin_user: User
) -> None:
    customer = make_customer(owner)
    task = _task(customer, owner, private=True, assignee=teammate)
    visible = {
        u.username
        for u in (owner, teammate, manager, admin_user)
        if Task.objects.visible_to(u).filter(pk=task.pk).exists()
    }
    assert visible == {owner.username, teammate.username}
    entries = TimelineEntry.objects.visible_to(manager).filter(task=task)
    assert not entries.exists()
    with pytest.raises(PermissionDenied):
        services.complete_task(task=task, by=manager)


def test_who_a_task_may_be_given_to(
    owner: User, teammate: User, outsider: User, manager: User, reader: User
) -> None:
    customer = make_customer(owner)
    other = make_user("otro")  # a salesperson of no team
    salesperson_choices = set(assignable_users(teammate, customer))
    assert {owner, teammate} <= salesperson_choices
    assert outsider not in salesperson_choices and other not in salesperson_choices
    assert reader not in salesperson_choices
    manager_choices = set(assignable_users(manager, customer))
    assert {owner, teammate, outsider, other, manager} <= manager_choices
    assert reader not in manager_choices


def test_a_time_with_a_time_zone_is_refused_by_the_api(owner: User) -> None:
    customer = make_customer(owner)
    body = {"type": "call", "subject": "Llamar", "due_date": datetime.date.today().isoformat(),
            "due_time": "11:36:29-20:38"}  # fmt: skip
    response = Client().post(
        f"/api/customers/{customer.pk}/tasks", body, content_type="application/json",
        **bearer(owner),
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "due_time"
    assert not Task.objects.exists()


def test_ids_beyond_64_bits_are_refused_not_crashing(owner: User) -> None:
    response = Client().get(
        "/api/opportunities?stage=3839788877122819306277291687936", **bearer(owner)
    )
    assert response.status_code == 422
