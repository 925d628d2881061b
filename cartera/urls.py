from django.urls import include, path

from cartera.api import api

urlpatterns = [
    path("", include("cartera.core.urls")),
    path("accounts/", include("cartera.accounts.urls")),
    path("customers/", include("cartera.customers.urls")),
    path("settings/lists/", include("cartera.customers.settings_urls")),
    path("privacy/", include("cartera.privacy.urls")),
    path("api/", api.urls),
]
