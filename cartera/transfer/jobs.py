"""The import's background jobs: the check (dry run) and the run, for ``cartera worker``.

Each speaks the language of whoever started the import: the check's errors are kept as text.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils import translation
from django_tasks import TaskContext

from cartera.core.jobs import job
from cartera.transfer import services
from cartera.transfer.models import Import, ImportStatus

RUN_ATTEMPTS = 3


def _in_their_language(batch: Import, work: Callable[[], Import], *, last: bool) -> str:
    """Do ``work`` in the language of who started the import. An error it did not expect
    fails the import, with a message, when no attempt is left."""
    with translation.override(batch.created_by.language or settings.LANGUAGE_CODE):
        try:
            return work().status
        except Exception:
            if last:
                services.fail_unexpectedly(batch)
            raise


@job(attempts=1, takes_context=True)
def check_import(context: TaskContext, import_id: int) -> str:
    """Check a file (nothing is written to the register)."""
    batch = Import.objects.filter(pk=import_id).select_related("created_by").first()
    if batch is None or batch.status != ImportStatus.CHECKING:
        return "skipped"
    return _in_their_language(batch, lambda: services.check_now(batch), last=True)


# A run killed half-way is resumed where its last committed chunk ended: the retry (after a
# worker died, or an error) or `cartera import --resume ID` writes no row twice.
@job(attempts=RUN_ATTEMPTS, takes_context=True)
def run_import(context: TaskContext, import_id: int) -> str:
    """Import a checked file, chunk by chunk."""
    batch = Import.objects.filter(pk=import_id).select_related("created_by").first()
    if batch is not None and batch.status == ImportStatus.FAILED and batch.options.get("resumable"):
        # an administrator retries a run that failed on an unexpected error: resume it
        Import.objects.filter(pk=batch.pk, status=ImportStatus.FAILED).update(
            status=ImportStatus.QUEUED, message=""
        )
        batch.refresh_from_db()
    if batch is None or batch.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return "skipped"
    last = context.attempt >= RUN_ATTEMPTS
    return _in_their_language(batch, lambda: services.run_now(batch), last=last)
