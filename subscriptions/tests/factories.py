"""Subscriptions bought the way customers buy them: a funded balance, then a purchase."""

from decimal import Decimal

from billing.tests.factories import completed_topup
from pods.tests.factories import seeded_plan
from subscriptions.services import subscription_purchase


def fund(user, amount="100000.00") -> None:
    completed_topup(user=user, amount=amount)


def buy(user, *, service: str = "n8n", plan: str = "starter", fund_first: bool = True, **kwargs):
    the_plan = seeded_plan(service, plan)
    if fund_first:
        fund(user, f"{max(Decimal('10000.00'), the_plan.price_monthly):.2f}")
    return subscription_purchase(user=user, service=the_plan.service, plan=the_plan, **kwargs)
