"""The duplicate scan as a background job: every night, and whenever a manager asks."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from cartera.core.jobs import job
from cartera.quality.scan import scan_duplicates

logger = logging.getLogger("cartera.quality")


@job(attempts=2, backoff=timedelta(minutes=5))
def scan_duplicates_job() -> dict[str, Any]:
    """Scan the register for duplicates and update the review queue; what it found."""
    result = scan_duplicates().as_dict()
    logger.info("Duplicate scan: %s", result)
    return result
