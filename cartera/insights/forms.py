"""The dashboard's filters: the period, and the owner or team whose portfolio to show."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cartera.accounts.models import Team, User
from cartera.insights.services import DEFAULT_PERIOD, PERIODS, Filters

EVERYONE = "all"


class DashboardFilter(forms.Form):
    months = forms.TypedChoiceField(label=_("Period"), required=False, coerce=int)
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.filter(is_active=True),
        empty_label=_("All owners"),
    )  # fmt: skip
    team = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.all(), empty_label=_("All teams")
    )

    def __init__(self, data: Any, *, user: User) -> None:
        data = data.copy()
        # A salesperson's dashboard opens on their own portfolio; "All owners" shows everything
        # they may see. Managers and administrators open on the whole portfolio.
        if "owner" not in data and not user.sees_whole_portfolio:
            data["owner"] = str(user.pk)
        if not data.get("months"):
            data["months"] = str(DEFAULT_PERIOD)
        super().__init__(data)
        months = self.fields["months"]
        assert isinstance(months, forms.TypedChoiceField)
        months.choices = [
            (n, ngettext("Last %(count)s month", "Last %(count)s months", n) % {"count": n})
            for n in PERIODS
        ]
        if not user.sees_whole_portfolio:
            del self.fields["team"]

    def filters(self) -> Filters:
        """The valid filters; an invalid one is left out (and reported on the form)."""
        self.is_valid()
        data = self.cleaned_data
        owner = data.get("owner")
        team = data.get("team")
        return Filters(
            months=data.get("months") or DEFAULT_PERIOD,
            owner_id=owner.pk if owner else None,
            team_id=team.pk if team else None,
            today=timezone.localdate(),
        )
