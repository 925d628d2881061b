"""Display helpers for customer templates."""

from __future__ import annotations

from django import template
from django.http import QueryDict

from cartera.customers.fiscal import format_tax_id
from cartera.customers.models import Address, AddressType, ChannelType, ContactChannel, Customer

register = template.Library()


@register.simple_tag
def tax_id(customer: Customer) -> str:
    if not customer.tax_id:
        return ""
    return format_tax_id(customer.tax_id, customer.tax_country, customer.tax_id_type)


@register.simple_tag
def sort_query(query: str, key: str) -> str:
    """The list's query string sorted by ``key``, reversed when it already is."""
    params = QueryDict(query, mutable=True)
    params["sort"] = f"-{key}" if params.get("sort", "name") == key else key
    return params.urlencode()


@register.filter
def main_channels(customer: Customer) -> list[ContactChannel]:
    """The main phone and e-mail (from prefetched channels)."""
    chosen: dict[str, ContactChannel] = {}
    for channel in customer.channels.all():
        if channel.type not in (ChannelType.PHONE, ChannelType.EMAIL):
            continue
        if channel.type not in chosen or (
            channel.is_primary and not chosen[channel.type].is_primary
        ):
            chosen[channel.type] = channel
    return [chosen[t] for t in (ChannelType.PHONE, ChannelType.EMAIL) if t in chosen]


@register.filter
def channel_display(channel: ContactChannel, home_region: str) -> str:
    return channel.display(home_region)


@register.filter
def main_address(customer: Customer) -> Address | None:
    addresses = list(customer.addresses.all())
    fiscal = [a for a in addresses if a.type == AddressType.FISCAL]
    return next(iter(fiscal or addresses), None)
