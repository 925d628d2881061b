from django.urls import path

from cartera.core import job_views, views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.set_language, name="set_language"),
    path("settings/", views.company_settings, name="settings"),
    path("settings/jobs/", job_views.job_list, name="jobs"),
    path("settings/jobs/<str:pk>/retry/", job_views.job_retry, name="job_retry"),
]
