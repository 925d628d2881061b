from django.urls import path

from cartera.transfer import export_views as views

app_name = "export"

urlpatterns = [
    path("", views.customers_export, name="customers"),
    path("download/", views.customers_download, name="download"),
    path("segments/<int:pk>/", views.segment_export, name="segment"),
    path("segments/<int:pk>/download/", views.segment_download, name="segment_download"),
    path("customers/<int:pk>/contacts.vcf", views.customer_vcard, name="customer_vcard"),
]
