"""The relationship over time: stage and status changes, tasks, notes, documents,
reminders, follow-up lists and the timeline that tells the story on the ficha."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import Contact, Customer, LossReason, among


class ChangeField(models.TextChoices):
    STAGE = "stage", _("Stage")
    STATUS = "status", _("Status")


class LifecycleChange(models.Model):
    """One change of a customer's stage or status: who, when, from, to and why."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="lifecycle_changes",
    )
    field = models.CharField(_("what changed"), max_length=8, choices=ChangeField.choices)
    old_value = models.CharField(_("from"), max_length=12, blank=True)
    new_value = models.CharField(_("to"), max_length=12)
    reason = models.TextField(_("reason"), blank=True)
    loss_reason = models.CharField(
        _("reason for loss"), max_length=20, choices=LossReason.choices, blank=True
    )
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("stage or status change")
        verbose_name_plural = _("stage and status changes")
        indexes = [
            models.Index(fields=["customer", "-changed_at"], name="lifecycle_customer"),
            models.Index(fields=["field", "new_value", "changed_at"], name="lifecycle_to"),
            models.Index(fields=["loss_reason", "changed_at"], name="lifecycle_loss"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.field} {self.old_value} → {self.new_value}"


class TaskType(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    RENEWAL = "renewal", _("Contract renewal")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class RecurrenceUnit(models.TextChoices):
    DAY = "day", _("days")
    WEEK = "week", _("weeks")
    MONTH = "month", _("months")
    YEAR = "year", _("years")


class TaskQuerySet(models.QuerySet["Task"]):
    def visible_to(self, user: Any) -> TaskQuerySet:
        """Tasks of customers the user may see; private ones only to their assignee and author."""
        customers = Customer.objects.visible_to(user)
        own = Q(assignee=user) | Q(created_by=user) if getattr(user, "pk", None) else Q()
        return self.filter(among(customers)).filter(Q(private=False) | own)

    def open(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=True)

    def done(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=False)


class Task(models.Model):
    """Something to do with a customer, by a date, by someone."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tasks"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    type = models.CharField(_("type"), max_length=10, choices=TaskType.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_date = models.DateField(_("due date"))
    due_time = models.TimeField(_("time"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,  # open tasks are handed over with the portfolio
        related_name="tasks",
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    private = models.BooleanField(_("private"), default=False)
    recurrence_interval = models.PositiveSmallIntegerField(_("repeat every"), null=True, blank=True)
    recurrence_unit = models.CharField(
        _("repeat unit"), max_length=8, choices=RecurrenceUnit.choices, blank=True
    )
    previous = models.OneToOneField(
        "self",
        verbose_name=_("repeats"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next",
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "due_time", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_date"], name="task_agenda"),
            models.Index(fields=["customer", "due_date"], name="task_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recurrence_interval__isnull=True, recurrence_unit="")
                | Q(recurrence_interval__gte=1) & ~Q(recurrence_unit=""),
                name="task_recurrence_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_recurring(self) -> bool:
        return bool(self.recurrence_interval and self.recurrence_unit)


class NoteKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Note(models.Model):
    """A note, or a call, e-mail or meeting logged after it happened."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="notes_log"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=NoteKind.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class AttachmentKind(models.TextChoices):
    CONTRACT = "contract", _("Contract")
    INVOICE = "invoice", _("Invoice")
    OTHER = "other", _("Other")


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a random name: the original name is kept in the row, never in the path."""
    import uuid

    return f"attachments/{instance.customer_id}/{uuid.uuid4().hex}"


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def visible_to(self, user: Any) -> AttachmentQuerySet:
        """Documents of visible customers; private ones only to their uploader and admins."""
        customers = Customer.objects.visible_to(user)
        if getattr(user, "is_admin", False):
            return self.filter(among(customers))
        own = Q(uploaded_by=user) if getattr(user, "pk", None) else Q()
        return self.filter(among(customers)).filter(Q(private=False) | own)


class Attachment(models.Model):
    """A file attached to a customer: a contract, an invoice or anything else."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(
        _("type"), max_length=10, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256 checksum"), max_length=64)
    private = models.BooleanField(_("private"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.name


class EntryKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    STAGE = "stage", _("Stage change")
    STATUS = "status", _("Status change")
    TASK_CREATED = "task_created", _("Task created")
    TASK_DONE = "task_done", _("Task done")
    DOCUMENT = "document", _("Document")
    IMPORT = "import", _("Import")
    MERGE = "merge", _("Merge")
    SALE = "sale", _("Sales document")


class TimelineQuerySet(models.QuerySet["TimelineEntry"]):
    def visible_to(self, user: Any) -> TimelineQuerySet:
        """Entries of visible customers, without other people's private tasks and documents."""
        customers = Customer.objects.visible_to(user)
        qs = self.filter(among(customers))
        if not getattr(user, "pk", None):
            return qs.none()
        return qs.filter(
            Q(task__isnull=True) | Q(task__private=False) | Q(task__assignee=user)
            | Q(task__created_by=user)
        ).filter(
            Q(attachment__isnull=True) | Q(attachment__private=False)
            | Q(attachment__uploaded_by=user)
        )  # fmt: skip


class TimelineEntry(models.Model):
    """One line of a customer's story, newest first on the ficha.

    Entries point at what they tell (a note, task, document or change) and keep in
    ``data`` the little they need to be read without it (an imported file's name...).
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="timeline"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.ForeignKey(
        Note, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    attachment = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    change = models.ForeignKey(
        LifecycleChange, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="timeline_customer"),
            models.Index(
                fields=["customer", "kind", "-occurred_at", "-id"], name="timeline_customer_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class ReminderKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("Customer anniversary")
    REVIEW = "review", _("Data review due")
    PRE_INACTIVE = "pre_inactive", _("Turning pre-inactive")
    FOLLOW_UP = "follow_up", _("Follow-up")


class Reminder(models.Model):
    """Something a user should know today about a customer; made by the daily job."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("for"),
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="reminders"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ReminderKind.choices)
    due_date = models.DateField(_("date"))
    # One reminder per occasion: the daily job can run twice without doubling them.
    key = models.CharField(max_length=100, unique=True, editable=False)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        indexes = [models.Index(fields=["user", "done_at", "due_date"], name="reminder_agenda")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer_id}"


class FollowUpList(models.Model):
    """A named list of customers to follow up; private to its owner unless shared."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="follow_up_lists",
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    customers = models.ManyToManyField(
        Customer, through="FollowUpEntry", related_name="follow_up_lists", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("follow-up list")
        verbose_name_plural = _("follow-up lists")

    def __str__(self) -> str:
        return self.name


class FollowUpEntry(models.Model):
    follow_up_list = models.ForeignKey(FollowUpList, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up_list", "customer"], name="follow_up_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.follow_up_list_id}: {self.customer_id}"


class CalendarFeed(models.Model):
    """A user's private calendar address; only a hash of its secret is kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar of {self.user_id}"
