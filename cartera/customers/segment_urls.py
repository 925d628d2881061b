from django.urls import path

from cartera.customers import segment_views as views

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.segment_create, name="create"),
    path("<int:pk>/", views.segment_open, name="open"),
    path("<int:pk>/edit/", views.segment_edit, name="edit"),
    path("<int:pk>/delete/", views.segment_delete, name="delete"),
]

# Mounted at customers/bulk/ under the "bulk" namespace.
bulk_urlpatterns = [
    path("", views.bulk_action, name="action"),
]
