import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cartera.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Connects the retry and failure reporting of background jobs.
        from cartera.core import jobs

        jobs.register_periodic(
            "core.prune_job_history", jobs.prune_job_history, daily_at=datetime.time(3, 30)
        )
        jobs.register_periodic(
            "core.refresh_statistics", jobs.refresh_statistics_job, daily_at=datetime.time(4, 0)
        )
