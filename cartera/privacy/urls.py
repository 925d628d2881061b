from django.urls import path

from cartera.privacy import views

app_name = "privacy"

urlpatterns = [
    path("customers/<int:pk>/", views.customer_privacy, name="customer"),
    path("customers/<int:pk>/package/", views.access_package, name="package"),
    path("customers/<int:pk>/block/", views.block, name="block"),
    path("customers/<int:pk>/anonymize/", views.anonymize, name="anonymize"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:pk>/", views.request_close, name="request"),
    path("policy/", views.policy, name="policy"),
]
