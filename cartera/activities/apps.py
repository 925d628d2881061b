import datetime
from typing import Any

from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "cartera.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from cartera.activities import bulk
        from cartera.activities.demo import load_activity_demo
        from cartera.activities.follow_up import FollowUpListFilter
        from cartera.activities.models import Attachment, Note, Task
        from cartera.activities.services import record_lifecycle
        from cartera.audit.presenters import register
        from cartera.customers.demo import register_demo
        from cartera.customers.filters import register_filter
        from cartera.customers.services import on_lifecycle_change

        on_lifecycle_change(record_lifecycle)
        register_demo(load_activity_demo)
        register("task", Task)
        register("note", Note)
        register("attachment", Attachment)
        bulk.register()
        register_filter(FollowUpListFilter())
        _register_panels()
        _register_jobs()
        _hide_private_history()


def _register_panels() -> None:
    """The ficha's stage card, tasks, documents and timeline."""
    from cartera.activities import views
    from cartera.activities.document_views import document_panel
    from cartera.activities.task_views import tasks_panel
    from cartera.customers.panels import Panel, register_panel

    register_panel(
        Panel("lifecycle", "activities/_lifecycle_panel.html", views.lifecycle_panel, order=5)
    )
    register_panel(Panel("tasks", "activities/_tasks_panel.html", tasks_panel, order=10))
    register_panel(Panel("documents", "activities/_documents_panel.html", document_panel, order=40))
    register_panel(
        Panel(
            "timeline",
            "activities/_timeline_panel.html",
            views.timeline_panel,
            order=50,
            place="wide",
        )
    )


def _register_jobs() -> None:
    """Reminders at 06:00 and the e-mail digest at 07:00, run by the worker's scheduler."""
    from cartera.activities.digest import send_digests_job
    from cartera.activities.reminders import generate_reminders_job
    from cartera.core import jobs

    jobs.register_periodic(
        "activities.generate_reminders", generate_reminders_job, daily_at=datetime.time(6, 0)
    )
    jobs.register_periodic(
        "activities.send_digests", send_digests_job, daily_at=datetime.time(7, 0)
    )


def _hide_private_history() -> None:
    """Another person's private tasks and documents stay out of the history one sees."""
    from cartera.activities.models import Attachment, Task
    from cartera.audit.models import register_hidden

    def private_tasks(user: Any) -> Any:
        mine = Q(assignee=user) | Q(created_by=user) if getattr(user, "pk", None) else Q()
        return Task.objects.filter(private=True).exclude(mine).values("pk")

    def private_documents(user: Any) -> Any:
        if getattr(user, "is_admin", False):
            return Attachment.objects.none().values("pk")
        mine = Q(uploaded_by=user) if getattr(user, "pk", None) else Q()
        return Attachment.objects.filter(private=True).exclude(mine).values("pk")

    register_hidden("task", private_tasks)
    register_hidden("attachment", private_documents)
