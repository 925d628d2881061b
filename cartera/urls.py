from django.urls import include, path, register_converter

from cartera.api import api, not_found
from cartera.customers import segment_urls


class Anything:
    """Any rest of a path, new lines and all (``path`` stops at a new line)."""

    regex = r"[\s\S]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Anything, "anything")

urlpatterns = [
    path("", include("cartera.core.urls")),
    path("accounts/", include("cartera.accounts.urls")),
    path("customers/", include("cartera.customers.urls")),
    path("customers/segments/", include("cartera.customers.segment_urls")),
    path("customers/bulk/", include((segment_urls.bulk_urlpatterns, "bulk"))),
    path("follow-up/", include("cartera.activities.follow_up_urls")),
    path("settings/lists/", include("cartera.customers.settings_urls")),
    path("privacy/", include("cartera.privacy.urls")),
    path("duplicates/", include("cartera.quality.urls")),
    path("import/", include("cartera.transfer.urls")),
    path("export/", include("cartera.transfer.export_urls")),
    path("sales/", include("cartera.sales.urls")),
    path("insights/", include("cartera.insights.urls")),
    path("", include("cartera.activities.calendar_urls")),
    path("documents/", include("cartera.activities.document_urls")),
    path("tasks/", include("cartera.activities.task_urls")),
    path("", include("cartera.activities.urls")),
    path("api/", api.urls),
    path("api/<anything:rest>", not_found, name="api_not_found"),
]
