"""The dashboard's figures as JSON: the same services as the page, the same visibility."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from cartera.accounts.models import User
from cartera.insights import services

router = Router(tags=["portfolio analysis"])

ChartName = Literal[
    "stage", "status", "activity", "segment", "sales", "pipeline", "loss_reason", "competitor",
    "owner", "region",
]  # fmt: skip


class DashboardParams(Schema):
    months: int = 12
    owner: int | None = Field(None, ge=1)
    team: int | None = Field(None, ge=1)
    chart: list[ChartName] | None = None

    @field_validator("months")
    @classmethod
    def _a_period_offered(cls, value: int) -> int:
        if value not in services.PERIODS:
            raise ValueError(
                _("Choose one of %(periods)s months.")
                % {"periods": ", ".join(str(n) for n in services.PERIODS)}
            )
        return value


class DashboardOut(Schema):
    computed_at: Any = Field(None, description="When the figures were computed (null: never).")
    as_of: Any = None
    months: int
    charts: dict[str, Any]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@router.get("/insights", response=DashboardOut)
def insights_dashboard(request: HttpRequest, params: Query[DashboardParams]) -> dict[str, Any]:
    """Every chart's figures (or those named in ``chart``) of the customers the user may see.

    Figures come from the snapshot computed at ``computed_at``; ``owner`` and ``team`` narrow
    them (an owner or team the user cannot see simply gives zeros).
    """
    user = _user(request)
    filters = services.Filters(
        months=params.months, owner_id=params.owner, team_id=params.team,
        today=timezone.localdate(),
    )  # fmt: skip
    wanted: list[str] = list(params.chart or services.CHARTS)
    charts = {
        name: services.build_chart(name=name, user=user, filters=filters).as_dict()
        for name in dict.fromkeys(wanted)
    }
    snapshot = services.last_refresh()
    return {
        "computed_at": snapshot.computed_at if snapshot else None,
        "as_of": snapshot.as_of if snapshot else None,
        "months": params.months,
        "charts": charts,
    }
