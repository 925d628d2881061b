"""The portfolio analysis dashboard, its CSV exports and the manual refresh."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cartera.accounts.models import User
from cartera.insights import charts, services
from cartera.insights.export import chart_csv
from cartera.insights.forms import DashboardFilter
from cartera.insights.jobs import refresh_figures_job

# The order and the width of the charts on the page.
LAYOUT = [
    ("stage", "half"), ("status", "half"), ("activity", "half"), ("segment", "half"),
    ("sales", "full"), ("pipeline", "half"), ("loss_reason", "half"), ("competitor", "half"),
    ("region", "half"), ("owner", "full"),
]  # fmt: skip


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every chart of the portfolio the user may see, with its table and CSV link."""
    user = _user(request)
    form = DashboardFilter(request.GET, user=user)
    board = services.build_dashboard(user=user, filters=form.filters())
    query = request.GET.copy()
    query.pop("page", None)
    panels = [
        {
            "chart": board.charts[name],
            "svg": charts.render(board.charts[name], wide=width == "full"),
            "width": width,
        }
        for name, width in LAYOUT
    ]
    context = {
        "nav": "insights",
        "form": form,
        "board": board,
        "panels": panels,
        "query": form.data.urlencode() if hasattr(form.data, "urlencode") else "",
        "can_refresh": user.sees_whole_portfolio,
        "kpi": {
            "customers": board.charts["stage"].total("customers"),
            "clients": board.charts["stage"].rows[2].values["customers"],
            "sales": board.charts["sales"].summary["net"],
            "weighted": board.charts["pipeline"].summary["weighted"],
            "top_share": board.charts["segment"].summary["top_share"],
            "recoverable_share": board.charts["loss_reason"].summary["recoverable_share"],
            "losses": board.charts["loss_reason"].summary["losses"],
        },
    }
    return render(request, "insights/dashboard.html", context)


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """One chart's table (``?chart=stage``) as CSV, with the dashboard's filters."""
    user = _user(request)
    chart = request.GET.get("chart", "")
    if chart not in services.CHARTS:
        raise Http404
    filters = DashboardFilter(request.GET, user=user).filters()
    built = services.build_chart(name=chart, user=user, filters=filters)
    response = HttpResponse(chart_csv(built), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cartera-{chart}.csv"'
    return response


@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Queue a refresh of the figures now (managers and administrators)."""
    if not _user(request).sees_whole_portfolio:
        raise PermissionDenied
    refresh_figures_job.enqueue()
    messages.success(
        request, _("The figures will be recomputed in a moment, once the worker runs the job.")
    )
    return redirect("insights:dashboard")
