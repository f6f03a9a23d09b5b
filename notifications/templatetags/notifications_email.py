"""Filters for email templates: contexts are JSON, so money and dates arrive as strings."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def idr(value) -> str:
    """``"150000.00"`` -> ``"IDR 150,000.00"``; anything that is not a number is shown as it is."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"IDR {amount:,.2f}"


@register.filter
def when(value) -> str:
    """An ISO 8601 timestamp -> ``"1 May 2026, 07:00 UTC"``; anything else is shown as it is."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        return str(value)
    return moment.strftime("%-d %B %Y, %H:%M %Z").replace("+0000", "UTC").strip()
