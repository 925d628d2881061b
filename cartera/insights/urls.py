from django.urls import path

from cartera.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export, name="export"),
    path("refresh/", views.refresh, name="refresh"),
]
