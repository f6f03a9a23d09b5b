"""Buying a subscription: the first period is paid from the balance in the same database
transaction that creates the subscription and its instance, or nothing is created at all."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.services import wallet_charge
from catalog.models import Plan, Service
from catalog.pricing import plan_price
from pods.services import instance_create
from subscriptions.exceptions import SubscriptionLimitReached
from subscriptions.models import Subscription
from workers.services import capacity_admit

from .money import period_length
from .notify import tell
from .transitions import record


def _live_count(user) -> int:
    return Subscription.objects.live().filter(user=user).count()


def check_sellable(service: Service, plan: Plan) -> None:
    """``Plan.objects.sellable()`` for one plan of ``service``, refusing with the reason (400)."""
    if not service.is_active:
        raise ValidationError({"service": ["This service is not sold any more."]})
    if plan.service_id != service.pk:
        raise ValidationError({"plan": ["This plan belongs to another service."]})
    if not plan.is_active:
        raise ValidationError({"plan": ["This plan is not sold any more."]})


def period_description(service: Service, plan: Plan, start, end) -> str:
    return f"{service.name} {plan.name}, {start:%d %b %Y} to {end:%d %b %Y}"


@transaction.atomic
def subscription_purchase(*, user, service: Service, plan: Plan, name: str | None = None, config=None) -> Subscription:
    """Buy ``plan`` of ``service`` for ``user``: charge the first period, create the subscription
    (ACTIVE) and its instance (to be provisioned after commit), tell the owner.

    Refusals change nothing: an inactive service or plan, a bad config or name (400), a balance
    that does not cover the price (402 ``insufficient_balance``), too many live subscriptions
    (409 ``subscription_limit_reached``), no room for the plan in the cluster (409 ``no_capacity``).
    """
    check_sellable(service, plan)
    limit = settings.SUBSCRIPTIONS_MAX_PER_USER
    if _live_count(user) >= limit:
        raise SubscriptionLimitReached(extra={"limit": limit})
    subscription_id = uuid.uuid4()
    start = timezone.now()
    end = start + period_length()
    price = plan_price(plan)
    # Room in the cluster, held until this purchase commits (409 no_capacity, nothing charged).
    capacity_admit(plan=plan)
    # The instance first: its name and config are validated before any money moves.
    instance = instance_create(owner=user, plan=plan, name=name, config=config, actor=user)
    charge = wallet_charge(
        user=user,
        amount=price,
        description=period_description(service, plan, start, end),
        subscription_id=subscription_id,
        idempotency_key=f"purchase:{subscription_id}",
    )
    # Counted again under the wallet lock the charge took: concurrent purchases queue on it.
    if _live_count(user) >= limit:
        raise SubscriptionLimitReached(extra={"limit": limit})
    subscription = Subscription.objects.create(
        id=subscription_id,
        user=user,
        service=service,
        plan=plan,
        instance=instance,
        name=instance.name,
        current_period_start=start,
        current_period_end=end,
        period_price=price,
        period_paid=price,
    )
    record(subscription, reason="Purchased", amount=charge.amount, actor=user, to_status=subscription.status)
    tell("subscription.created", subscription, amount=price)
    return subscription
