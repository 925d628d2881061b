from django.urls import path

from cartera.customers import settings_views as views

app_name = "lists"

urlpatterns = [
    path("fiscal-types/", views.fiscal_types, name="fiscal_types"),
    path("legal-forms/", views.legal_forms, name="legal_forms"),
    path("lead-sources/", views.lead_sources, name="lead_sources"),
    path("sectors/", views.sectors, name="sectors"),
    path("groups/", views.groups, name="groups"),
    path("custom-fields/", views.custom_fields, name="custom_fields"),
]
