from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "cartera.privacy"
    label = "privacy"
    verbose_name = _("Data protection")

    def ready(self) -> None:
        from cartera.audit.presenters import register
        from cartera.customers.filters import register_filter
        from cartera.privacy.filters import ConsentFilter
        from cartera.privacy.models import ConsentRecord, DataSubjectRequest

        register("consent", ConsentRecord)
        register("privacy_request", DataSubjectRequest)
        register_filter(ConsentFilter())
