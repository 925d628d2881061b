"""Imports of customers from spreadsheets: the file, its mapping, progress and outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Customer


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNDONE = "undone", _("Undone")


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("Skip them")
    UPDATE_EMPTY = "update_empty", _("Update the existing customer: only its empty fields")
    OVERWRITE = "overwrite", _("Update the existing customer: overwrite its fields")
    CREATE = "create", _("Create them anyway")


# While one of these, a worker owns the import and the page polls its progress.
ACTIVE = (ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING)


class MappingTemplate(models.Model):
    """A saved column mapping (file header → field), reused for files of the same shape."""

    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict)  # folded header -> field key
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mapping template")
        verbose_name_plural = _("mapping templates")
        constraints = [
            models.UniqueConstraint(fields=["created_by", "name"], name="mapping_name_per_user")
        ]

    def __str__(self) -> str:
        return self.name


class Import(models.Model):
    """One spreadsheet imported (or being imported) into the register."""

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=200)
    file_size = models.PositiveBigIntegerField(_("size"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    # How the file is read: {"format", "encoding", "delimiter", "decimal", "sheet"}.
    options = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)  # column index -> field
    policy = models.CharField(
        _("duplicates"),
        max_length=12,
        choices=DuplicatePolicy.choices,
        default=DuplicatePolicy.SKIP,
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    invalid_rows = models.PositiveIntegerField(_("invalid rows"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("duplicates"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    # Rows before this one are done: written in the same transaction as their batch, so a
    # run that resumes after a crash starts here and writes no row twice.
    next_row = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)  # progress of the current pass
    errors = models.JSONField(default=list, blank=True)  # the first errors, for the page
    duplicates = models.JSONField(default=list, blank=True)  # the first duplicates found
    error_file = models.FileField(upload_to="imports/errors/%Y/%m/", blank=True)
    message = models.TextField(_("message"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_by_user")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.rows_read / self.total_rows))


class RowAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")


class ImportedRow(models.Model):
    """A row of a file that created or changed a customer: resumption and undo read these."""

    batch = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField()
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=8, choices=RowAction.choices)
    version = models.PositiveIntegerField(default=1)  # the customer's version once written

    class Meta:
        ordering = ["batch", "row"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="imported_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}"


def written_rows(batch: Import | int) -> models.QuerySet[ImportedRow]:
    """The rows of an import that wrote a customer still in the register."""
    return ImportedRow.objects.filter(batch=batch, customer__isnull=False)
