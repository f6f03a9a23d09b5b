"""What a plan costs: the one place that reads a plan's price.

Purchases, renewals, resumes, plan changes, suspensions, the runway and the expiry warnings ask
here, in Python (``plan_price``) or inside a query (``plan_price_of``), so a change in how prices
are kept (a price that changes over time, say) is a change to this module and its callers' tests.
The catalog's own forms, serializers and admin edit the ``price_monthly`` field itself.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F

from .models import Plan


def plan_price(plan: Plan) -> Decimal:
    """What one period of ``plan`` costs now, in IDR (a period is ``SUBSCRIPTION_PERIOD_DAYS``)."""
    return plan.price_monthly


def plan_price_of(relation: str) -> F:
    """``plan_price`` inside a query, for the plan a row reaches through ``relation`` (``"plan"``
    from a subscription)."""
    return F(f"{relation}__price_monthly")
