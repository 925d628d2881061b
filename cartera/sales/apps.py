from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "cartera.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from cartera.audit.presenters import register
        from cartera.customers.panels import Panel, register_panel
        from cartera.sales.history import purchase_history_panel
        from cartera.sales.models import Opportunity, Product, SalesDocument

        register_panel(
            Panel("sales", "sales/_history_panel.html", purchase_history_panel, order=30)
        )
        register("product", Product)
        register("sales_document", SalesDocument)
        register("opportunity", Opportunity)
        _register_jobs()


def _register_jobs() -> None:
    """The purchase-activity recompute every night at 02:30, once the scheduler is there."""
    import datetime
    import importlib
    import importlib.util

    if importlib.util.find_spec("cartera.core.jobs") is None:
        return  # no scheduler: run `recompute_activity_job` by hand or from cron
    jobs = importlib.import_module("cartera.core.jobs")
    from cartera.sales.activity import recompute_activity_job

    jobs.register_periodic(
        "sales.recompute_activity", recompute_activity_job, daily_at=datetime.time(2, 30)
    )
