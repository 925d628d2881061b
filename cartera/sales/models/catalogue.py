"""The catalogue: products and services, and the special prices of customer groups."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cartera.customers.models import CustomerGroup

ZERO = Decimal("0")
HUNDRED = Decimal("100")


class ProductKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")


class Product(models.Model):
    """Something the company sells, with its list price and tax rate."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=10, choices=ProductKind.choices, default=ProductKind.PRODUCT
    )
    unit = models.CharField(_("unit"), max_length=20, default="ud", blank=True)
    price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(ZERO)]
    )
    tax_rate = models.DecimalField(
        _("tax rate %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("21"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(HUNDRED)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["is_active", "code"], name="product_active_code")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class GroupPrice(models.Model):
    """A customer group's own price for one product (it wins over the group's discount)."""

    group = models.ForeignKey(
        CustomerGroup,
        verbose_name=_("customer group"),
        on_delete=models.CASCADE,
        related_name="special_prices",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="group_prices"
    )
    price = models.DecimalField(
        _("special price"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(ZERO)],
    )

    class Meta:
        ordering = ["group__name", "product__code"]
        verbose_name = _("special price")
        verbose_name_plural = _("special prices")
        constraints = [
            models.UniqueConstraint(fields=["group", "product"], name="group_price_once")
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.product.code}: {self.price}"
