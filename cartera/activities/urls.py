from django.urls import path

from cartera.activities import views

app_name = "activities"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("today/tasks/<int:pk>/done/", views.today_task_done, name="today_task_done"),
    path("today/tasks/<int:pk>/snooze/", views.today_task_snooze, name="today_task_snooze"),
    path("today/reminders/<int:pk>/done/", views.today_reminder_done, name="today_reminder_done"),
    path(
        "today/reminders/<int:pk>/snooze/",
        views.today_reminder_snooze,
        name="today_reminder_snooze",
    ),
    path("customers/<int:pk>/stage/", views.stage_change, name="stage"),
    path("customers/<int:pk>/status/", views.status_change, name="status"),
    path("customers/<int:pk>/notes/new/", views.note_create, name="note_create"),
    path("customers/<int:pk>/timeline/", views.timeline, name="timeline"),
]
