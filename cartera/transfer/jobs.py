"""The import's background jobs: the check (dry run) and the run, for ``cartera worker``."""

from __future__ import annotations

from cartera.core.jobs import job
from cartera.transfer import services
from cartera.transfer.models import Import, ImportStatus


@job(attempts=1)
def check_import(import_id: int) -> str:
    """Check a file (nothing is written to the register)."""
    batch = Import.objects.filter(pk=import_id).first()
    if batch is None or batch.status != ImportStatus.CHECKING:
        return "skipped"
    return services.check_now(batch).status


# A run killed half-way is resumed where its last committed chunk ended: the retry (after a
# worker died) or `cartera import --resume ID` writes no row twice.
@job(attempts=3)
def run_import(import_id: int) -> str:
    """Import a checked file, chunk by chunk."""
    batch = Import.objects.filter(pk=import_id).first()
    if batch is None or batch.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return "skipped"
    return services.run_now(batch).status
