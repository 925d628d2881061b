from django.urls import path

from cartera.activities import task_views as views

app_name = "tasks"

urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("new/", views.task_create, name="create"),
    path("customers/<int:pk>/new/", views.customer_task_create, name="customer_create"),
    path("<int:pk>/", views.task_detail, name="detail"),
    path("<int:pk>/done/", views.task_done, name="done"),
    path("<int:pk>/reopen/", views.task_reopen, name="reopen"),
    path("<int:pk>/snooze/", views.task_snooze, name="snooze"),
]
