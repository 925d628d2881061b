from django.urls import path

from cartera.activities import document_views as views

app_name = "documents"

urlpatterns = [
    path("customers/<int:pk>/", views.customer_documents, name="list"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
