"""What hangs off a customer: contact channels, addresses and contacts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cartera.core.countries import country_name, region_name
from cartera.core.phones import format_phone, national_digits
from cartera.core.text import fold
from cartera.customers.models.customer import Customer


class ChannelType(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEBSITE = "website", _("Website")
    SOCIAL = "social", _("Social profile")


class ChannelLabel(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    LANDLINE = "landline", _("Landline")
    FAX = "fax", _("Fax")
    GENERAL = "general", _("General")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class ContactChannel(models.Model):
    """A way to reach a customer: phones in E.164, e-mails normalised."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="channels"
    )
    type = models.CharField(_("type"), max_length=10, choices=ChannelType.choices)
    label = models.CharField(_("label"), max_length=10, choices=ChannelLabel.choices, blank=True)
    value = models.CharField(_("value"), max_length=254)
    is_primary = models.BooleanField(_("main"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("contact channel")
        verbose_name_plural = _("contact channels")
        indexes = [models.Index(fields=["type", "value"], name="channel_type_value")]

    def __str__(self) -> str:
        return self.value

    def display(self, home_region: str | None = None) -> str:
        if self.type == ChannelType.PHONE:
            return format_phone(self.value, home_region)
        return self.value

    @property
    def href(self) -> str:
        if self.type == ChannelType.PHONE:
            return f"tel:{self.value}"
        if self.type == ChannelType.EMAIL:
            return f"mailto:{self.value}"
        return self.value

    def search_form(self) -> str:
        if self.type == ChannelType.PHONE:
            return f"{self.value.lstrip('+')} {national_digits(self.value)}"
        return fold(self.value)


class AddressType(models.TextChoices):
    FISCAL = "fiscal", _("Fiscal")
    SHIPPING = "shipping", _("Shipping")
    OTHER = "other", pgettext_lazy("address type", "Other")  # "Otra" (dirección)


class Address(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    type = models.CharField(
        _("type"), max_length=10, choices=AddressType.choices, default=AddressType.FISCAL
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    exterior_number = models.CharField(_("exterior number"), max_length=20, blank=True)
    interior_number = models.CharField(_("interior number / door"), max_length=40, blank=True)
    neighbourhood = models.CharField(_("neighbourhood / colonia"), max_length=120, blank=True)
    municipality = models.CharField(_("municipality"), max_length=120, blank=True)
    locality = models.CharField(_("locality"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    region = models.CharField(_("region"), max_length=8, blank=True)
    country = models.CharField(_("country"), max_length=2)

    class Meta:
        ordering = ["type", "id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(type="fiscal"), name="address_one_fiscal"
            )
        ]
        indexes = [
            models.Index(fields=["country", "region"], name="address_country_region"),
            # A customer's addresses, and whether it has one in a country or region (the list's
            # filters) answered from the index alone.
            models.Index(fields=["customer", "country", "region"], name="address_customer_country"),
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines())

    def lines(self) -> list[str]:
        first = " ".join(p for p in [self.street, self.exterior_number, self.interior_number] if p)
        place = " ".join(p for p in [self.postal_code, self.locality or self.municipality] if p)
        municipality = (
            self.municipality if self.locality and self.municipality != self.locality else ""
        )
        rest = ", ".join(p for p in [region_name(self.region), country_name(self.country)] if p)
        return [p for p in [first, self.neighbourhood, place, municipality, rest] if p]

    @property
    def region_name(self) -> str:
        return region_name(self.region)

    @property
    def country_name(self) -> str:
        return country_name(self.country)


class Contact(models.Model):
    """A person at an organisation customer."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("surnames"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_primary = models.BooleanField(_("main contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "first_name", "last_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in [self.first_name, self.last_name] if p)
