from django.urls import path

from cartera.transfer import views

app_name = "transfer"

urlpatterns = [
    path("", views.start, name="start"),
    path("template.xlsx", views.template, name="template"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
    path("<int:pk>/run/", views.run, name="run"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/undo/", views.undo, name="undo"),
    path("<int:pk>/errors/", views.errors, name="errors"),
]
