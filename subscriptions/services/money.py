"""Pro rata arithmetic, in whole rupiah, never against the customer.

A period is ``SUBSCRIPTION_PERIOD_DAYS`` days (30) at the plan's monthly price. A share of a
period is priced by the second: ``price * seconds / seconds_in_period`` (a span may be longer
than one period: a subscription paid ahead). The result is rounded to
the whole rupiah (IDR has no smaller coin in use): **down** when the customer pays (an upgrade),
**up** when the customer is credited (a downgrade, an early cancellation, downtime). So every
rounding is in the customer's favour, by less than one rupiah.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.conf import settings

CENT = Decimal("0.01")
RUPIAH = Decimal("1")


def period_length() -> timedelta:
    return timedelta(days=settings.SUBSCRIPTION_PERIOD_DAYS)


def _share(monthly: Decimal, span: timedelta) -> Decimal:
    seconds = Decimal(int(span.total_seconds()))
    total = Decimal(int(period_length().total_seconds()))
    return monthly * max(seconds, Decimal(0)) / total


def prorate_charge(monthly: Decimal, span: timedelta) -> Decimal:
    """What the customer pays for ``span`` of a period at ``monthly``: rounded down."""
    return _share(monthly, span).quantize(RUPIAH, rounding=ROUND_FLOOR).quantize(CENT)


def prorate_credit(monthly: Decimal, span: timedelta) -> Decimal:
    """What the customer gets back for ``span`` of a period at ``monthly``: rounded up."""
    return _share(monthly, span).quantize(RUPIAH, rounding=ROUND_CEILING).quantize(CENT)


def prorate_refund(*, monthly: Decimal, paid: Decimal, start: datetime, end: datetime, now: datetime) -> Decimal:
    """What ending a period at ``now`` gives back: the time left at ``monthly``, but never more
    than the same share of what was ``paid`` for the whole period, so that days an operator added
    for free are not paid out in cash. Rounded up."""
    left = max(end - now, timedelta(0))
    length = Decimal(int((end - start).total_seconds()))
    unused = _share(monthly, left)
    if length > 0:
        unused = min(unused, paid * Decimal(int(left.total_seconds())) / length)
    return max(unused, Decimal(0)).quantize(RUPIAH, rounding=ROUND_CEILING).quantize(CENT)


def describe_span(span: timedelta) -> str:
    """``3 d 4 h``, ``2 h 13 min``, ``45 min``: a duration as people read it on a ledger row."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(minutes, 1)} min"
