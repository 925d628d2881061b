from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "cartera.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from cartera.audit.presenters import register
        from cartera.customers.models import Address, Contact, ContactChannel, Customer

        register("customer", Customer)
        register("channel", ContactChannel)
        register("address", Address)
        register("contact", Contact)
