from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "cartera.quality"
    label = "quality"
    verbose_name = _("Data quality")

    def ready(self) -> None:
        import datetime

        from cartera.core.jobs import register_periodic
        from cartera.customers.panels import Panel, register_panel
        from cartera.quality.jobs import scan_duplicates_job
        from cartera.quality.movers import register_merge_mover
        from cartera.quality.sales_mover import move_sales
        from cartera.quality.views import merge_panel

        # Every night, before the working day: the review queue is fresh in the morning.
        register_periodic(
            "quality.scan_duplicates", scan_duplicates_job, daily_at=datetime.time(3, 0)
        )
        register_merge_mover(move_sales)
        register_panel(Panel("merges", "quality/_merge_panel.html", merge_panel, order=3))
