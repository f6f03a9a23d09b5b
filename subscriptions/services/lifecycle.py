"""The steps every path through a subscription's life shares: suspending, resuming, ending,
starting a new period, and crediting downtime. Callers hold the subscription's row lock and
call these inside their transaction; each step moves money only through ``billing.services``
and changes the instance only through ``pods.services``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from billing.selectors import wallet_balance
from billing.services import wallet_refund
from catalog.pricing import plan_price
from pods.services import instance_delete, instance_start, instance_stop
from subscriptions.models import Subscription

from .money import describe_span, period_length, prorate_credit
from .notify import tell
from .transitions import record, transition

Status = Subscription.Status
ZERO = Decimal("0.00")


def lock(subscription: Subscription) -> Subscription:
    """The subscription re-read under its row lock (lock order: subscription, then wallet)."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("user", "service", "plan", "instance")
        .get(pk=subscription.pk)
    )


def credit(
    subscription: Subscription, amount: Decimal, *, description: str, key: str, reason: str, actor=None
) -> Decimal:
    """Credit ``amount`` to the owner's balance for this subscription (at most what was paid for
    the period), once per ``key``; returns what was credited."""
    amount = min(amount, subscription.period_paid)
    if amount <= 0:
        return ZERO
    wallet_refund(
        user=subscription.user,
        amount=amount,
        description=description,
        subscription_id=subscription.pk,
        idempotency_key=f"{key}:{subscription.pk}",
        actor=actor,
    )
    subscription.period_paid -= amount
    subscription.save(update_fields=["period_paid", "updated_at"])
    record(subscription, reason=reason, message=description, amount=amount, actor=actor)
    return amount


def settle_downtime(subscription: Subscription, *, until: datetime) -> Decimal:
    """Credit the time the app has been down through no act of its owner, up to ``until``."""
    since = subscription.downtime_since
    if since is None:
        return ZERO
    subscription.downtime_since = None
    subscription.save(update_fields=["downtime_since", "updated_at"])
    span = until - max(since, subscription.current_period_start)
    if span <= timedelta(0):
        return ZERO
    why = subscription.downtime_reason or "the app was not running"
    return credit(
        subscription,
        prorate_credit(subscription.period_price, span),
        description=f"Credit for {describe_span(span)} of downtime of {subscription.name}: {why}"[:255],
        key=f"downtime:{since.isoformat()}",
        reason="DowntimeCredited",
    )


def start_period(subscription: Subscription, *, start: datetime, price: Decimal) -> None:
    """The subscription is paid ``price`` for a new period from ``start`` (caller saves)."""
    if subscription.downtime_since is not None:
        # Downtime running across the renewal: the old period's share is credited now.
        settle_downtime(subscription, until=start)
        subscription.downtime_since = start
    subscription.current_period_start = start
    subscription.current_period_end = start + period_length()
    subscription.period_price = price
    subscription.period_paid = price
    subscription.warned_for = None


PERIOD_FIELDS = (
    "current_period_start",
    "current_period_end",
    "period_price",
    "period_paid",
    "warned_for",
    "downtime_since",
)


def suspend(subscription: Subscription, *, reason: str, message: str) -> None:
    """Stop the app (data kept) until the grace period ends; tell the owner what it takes."""
    now = timezone.now()
    settle_downtime(subscription, until=now)
    subscription.grace_until = now + timedelta(days=settings.SUBSCRIPTION_GRACE_DAYS)
    transition(subscription, Status.SUSPENDED, reason=reason, message=message, fields=("grace_until",))
    instance_stop(instance=subscription.instance, reason="SubscriptionSuspended")
    tell(
        "subscription.suspended",
        subscription,
        amount=plan_price(subscription.plan),
        balance=wallet_balance(user=subscription.user),
        reason=message,
    )


def resume(subscription: Subscription, *, reason: str, actor=None, amount: Decimal) -> None:
    """A suspended subscription is paid again: a new period from now, the app started."""
    start_period(subscription, start=timezone.now(), price=plan_price(subscription.plan))
    subscription.grace_until = None
    subscription.suspended_at = None
    transition(
        subscription,
        Status.ACTIVE,
        reason=reason,
        amount=-amount,
        actor=actor,
        fields=(*PERIOD_FIELDS, "grace_until", "suspended_at"),
    )
    instance_start(instance=subscription.instance, reason="SubscriptionResumed")
    tell("subscription.renewed", subscription, amount=amount)


def end(
    subscription: Subscription, to: str, *, reason: str, message: str = "", refund: Decimal = ZERO, actor=None
) -> Decimal:
    """Cancel or expire: credit what is owed, delete the app (its volumes are kept for the
    retention window), tell the owner. Returns the refund made."""
    now = timezone.now()
    settle_downtime(subscription, until=now)
    refunded = credit(
        subscription,
        refund,
        description=f"Refund of the unused part of {subscription.name}'s period",
        key="refund",
        reason="Refunded",
        actor=actor,
    )
    subscription.cancel_at_period_end = False
    transition(subscription, to, reason=reason, message=message, actor=actor, fields=("cancel_at_period_end",))
    instance_delete(instance=subscription.instance, actor=actor, reason="SubscriptionEnded")
    event = "subscription.cancelled" if to == Status.CANCELLED else "subscription.expired"
    tell(event, subscription, refund=refunded, reason=message)
    return refunded
