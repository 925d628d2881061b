from __future__ import annotations

from typing import Any

from cartera.accounts.models import User
from cartera.transfer import services
from cartera.transfer.models import Import, ImportStatus
from tests.transfer.files import upload


def imported(name: str, content: bytes, by: User, *, policy: str = "skip",
             dry_run: bool = False, **mapping: Any) -> Import:  # fmt: skip
    """Upload, check and (unless ``dry_run``) import a file, here and now."""
    batch = services.create_import(file=upload(name, content), name=name, by=by)
    services.check_now(batch)
    if dry_run or batch.status != ImportStatus.CHECKED:
        return batch
    batch.policy = policy
    batch.status = ImportStatus.QUEUED
    batch.save(update_fields=["policy", "status"])
    return services.run_now(batch)
