from django.urls import path

from cartera.sales import pipeline_views, views

app_name = "sales"

urlpatterns = [
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("documents/", views.document_list, name="documents"),
    path("documents/new/", views.document_create, name="document_create"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document_edit"),
    path("documents/<int:pk>/pdf/", views.document_pdf, name="document_pdf"),
    path("documents/<int:pk>/state/", views.document_state, name="document_state"),
    path("documents/<int:pk>/convert/", views.document_convert, name="document_convert"),
    path("pipeline/", pipeline_views.board, name="board"),
    path("opportunities/", pipeline_views.opportunity_list, name="opportunities"),
    path(
        "customers/<int:customer_id>/opportunities/new/",
        pipeline_views.opportunity_create,
        name="opportunity_create",
    ),
    path("opportunities/<int:pk>/", pipeline_views.opportunity_detail, name="opportunity"),
    path("opportunities/<int:pk>/move/", pipeline_views.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/win/", pipeline_views.opportunity_win, name="opportunity_win"),
    path("opportunities/<int:pk>/lose/", pipeline_views.opportunity_lose, name="opportunity_lose"),
    path("stages/", pipeline_views.stages, name="stages"),
]
