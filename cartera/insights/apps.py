from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "cartera.insights"
    label = "insights"
    verbose_name = _("Portfolio analysis")

    def ready(self) -> None:
        import datetime

        from cartera.core.jobs import register_periodic
        from cartera.customers.filters import register_filter
        from cartera.insights.filters import LossReasonFilter, LostToFilter, RevenueSegmentFilter
        from cartera.insights.jobs import refresh_figures_job

        # Hourly: stage and owner changes show up within the hour; sales are summed up to
        # the refresh. Managers may also refresh by hand from the dashboard.
        register_periodic(
            "insights.refresh", refresh_figures_job, every=datetime.timedelta(hours=1)
        )
        register_filter(LossReasonFilter())
        register_filter(LostToFilter())
        register_filter(RevenueSegmentFilter())
