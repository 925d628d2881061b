from django.urls import path

from cartera.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.pair_list, name="list"),
    path("scan/", views.scan, name="scan"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
]
