from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransferConfig(AppConfig):
    name = "cartera.transfer"
    label = "transfer"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from cartera.customers.filters import register_filter
        from cartera.transfer.filters import ImportFilter

        register_filter(ImportFilter())
