from django.urls import path

from cartera.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.set_language, name="set_language"),
    path("settings/", views.company_settings, name="settings"),
]
