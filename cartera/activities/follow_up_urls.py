from django.urls import path

from cartera.activities import follow_up_views as views

app_name = "follow_up"

urlpatterns = [
    path("", views.follow_up_lists, name="lists"),
    path("<int:pk>/", views.follow_up_open, name="open"),
    path("<int:pk>/edit/", views.follow_up_edit, name="edit"),
    path("<int:pk>/delete/", views.follow_up_delete, name="delete"),
    path("<int:pk>/remove/", views.follow_up_remove, name="remove"),
]
