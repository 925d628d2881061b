"""The refresh of the dashboard's figures as a background job: every hour, and on request."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from cartera.core.jobs import job
from cartera.insights.snapshot import refresh_figures

logger = logging.getLogger("cartera.insights")


@job(attempts=2, backoff=timedelta(minutes=5))
def refresh_figures_job() -> dict[str, Any]:
    """Recompute the snapshot tables; how many rows each got and how long it took."""
    result = refresh_figures()
    logger.info("Dashboard figures refreshed: %s", result)
    return result
