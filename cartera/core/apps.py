import datetime
import logging
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
        post_migrate.connect(_statistics_after_migrating, sender=self)


def _statistics_after_migrating(*, plan: Any = None, using: str = "default", **kwargs: Any) -> None:
    """SQLite plans with the statistics of the last ``ANALYZE``: an index a migration adds has
    none until the nightly refresh, and the list may meanwhile be read through the wrong one (a
    new sort index: 0.2 ms became 180 ms among 100,000 customers). Refreshed once per
    ``migrate`` that applied something."""
    if not plan:
        return
    from django.db import OperationalError, connections

    from cartera.core.db import refresh_statistics

    try:
        refresh_statistics(connections[using])
    except OperationalError as exc:  # busy (a long import writing): the night's run will do
        logging.getLogger(__name__).warning("Statistics not refreshed after migrating: %s", exc)
