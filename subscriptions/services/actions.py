"""What an owner (or an operator) asks of a subscription: renew now, cancel, change plan, rename,
turn automatic renewal on or off. Each holds the subscription's row lock for its whole
transaction, so it cannot interleave with the billing clock or with another request."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.services import wallet_charge
from catalog.models import Plan
from catalog.pricing import plan_price
from paas.exceptions import InvalidState
from pods.services import instance_change_plan, instance_restart, instance_start, instance_stop
from pods.services.instances import instance_name_clean
from subscriptions.models import Subscription
from templates.resources import plan_requests
from workers.services import capacity_admit

from .lifecycle import PERIOD_FIELDS, ZERO, credit, end, lock, resume, start_period, suspend
from .money import period_length, prorate_charge, prorate_credit, prorate_refund
from .notify import tell
from .purchase import check_sellable, period_description
from .transitions import check, record, transition

Status = Subscription.Status


# A renew asked for this soon after a period started (the clock just renewed it, or it was just
# bought) finds the period paid and charges nothing: racing the clock must not charge twice.
JUST_PAID = timedelta(minutes=10)


def renewal_key(subscription: Subscription) -> str:
    """One charge per period, whoever takes it (the owner's renew or the billing clock)."""
    return period_renewal_key(subscription.pk, subscription.current_period_end)


def period_renewal_key(subscription_id, period_end) -> str:
    return f"renew:{subscription_id}:{period_end.isoformat()}"


@transaction.atomic
def subscription_renew(*, subscription: Subscription, actor=None) -> Subscription:
    """Pay the next period now. An ACTIVE subscription gets a period more (and no longer ends
    at the current one); a SUSPENDED one is resumed with a new period from now and its app started.
    402 when the balance does not cover it, and nothing changes. A period that started less than
    ``JUST_PAID`` ago is paid already: nothing is charged (the clock may have just renewed it)."""
    subscription = lock(subscription)
    check(subscription, Status.ACTIVE)
    price = plan_price(subscription.plan)
    if subscription.status == Status.SUSPENDED:
        now = timezone.now()
        wallet_charge(
            user=subscription.user,
            amount=price,
            description=period_description(subscription.service, subscription.plan, now, now + period_length()),
            subscription_id=subscription.pk,
            idempotency_key=f"resume:{subscription.pk}:{subscription.suspended_at.isoformat()}",
        )
        resume(subscription, reason="Resumed", actor=actor, amount=price)
        return subscription
    now = timezone.now()
    if subscription.current_period_end > now and subscription.current_period_start > now - JUST_PAID:
        return subscription
    start = subscription.current_period_end
    charge = wallet_charge(
        user=subscription.user,
        amount=price,
        description=period_description(subscription.service, subscription.plan, start, start + period_length()),
        subscription_id=subscription.pk,
        idempotency_key=renewal_key(subscription),
    )
    if start <= now:
        # Due: exactly what the billing clock would do.
        start_period(subscription, start=start, price=price)
        subscription.cancel_at_period_end = False
        subscription.save(update_fields=[*PERIOD_FIELDS, "cancel_at_period_end", "updated_at"])
        record(
            subscription, reason="Renewed", amount=charge.amount, actor=actor, from_status="ACTIVE", to_status="ACTIVE"
        )
    else:
        # Paid ahead: the next period follows the current one, which runs on as bought.
        subscription.current_period_end = start + period_length()
        subscription.period_paid += price
        subscription.cancel_at_period_end = False
        subscription.save(update_fields=["current_period_end", "period_paid", "cancel_at_period_end", "updated_at"])
        record(
            subscription,
            reason="RenewedEarly",
            message=f"Paid until {subscription.current_period_end:%d %b %Y}.",
            amount=charge.amount,
            actor=actor,
        )
    tell("subscription.renewed", subscription, amount=price)
    return subscription


_INSTANCE_CONTROLS = {"restart": instance_restart, "start": instance_start, "stop": instance_stop}


def subscription_instance_control(*, subscription: Subscription, control: str, actor=None):
    """The owner's ``restart``, ``start`` or ``stop`` of the subscription's app. Only a paid-up
    (ACTIVE) subscription runs its app: a suspended one is renewed first; stopping is always
    allowed while it lives. Returns the instance (the reconcile loop does the work)."""
    if control != "stop" and subscription.status != Status.ACTIVE:
        raise InvalidState(f"The subscription is {subscription.status.lower()}; renew it to run its app.")
    if not subscription.is_live:
        raise InvalidState(f"The subscription is {subscription.status.lower()}.")
    return _INSTANCE_CONTROLS[control](instance=subscription.instance, actor=actor)


@transaction.atomic
def subscription_resume(*, subscription: Subscription, actor=None) -> Subscription:
    """Pay a new period for a SUSPENDED subscription and start its app (409 ``invalid_state``
    otherwise). Unlike ``subscription_renew``, it never pays ahead: resuming twice, or resuming a
    subscription that something else resumed meanwhile, charges once."""
    subscription = lock(subscription)
    if subscription.status != Status.SUSPENDED:
        raise InvalidState("Only a suspended subscription can be resumed.")
    return subscription_renew(subscription=subscription, actor=actor)


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, immediate: bool = False, actor=None, refund: bool = True
) -> Subscription:
    """Cancel at the end of the paid period (the app runs until then), or now: the app is deleted
    and the unused part of the period is credited pro rata (``refund=False`` lets an operator
    cancel without one). A suspended subscription has no paid time left: it ends now."""
    subscription = lock(subscription)
    check(subscription, Status.CANCELLED)
    if not immediate and subscription.status == Status.ACTIVE:
        if not subscription.cancel_at_period_end:
            subscription.cancel_at_period_end = True
            subscription.save(update_fields=["cancel_at_period_end", "updated_at"])
            record(
                subscription,
                reason="CancelRequested",
                message=f"Ends on {subscription.current_period_end:%d %b %Y}.",
                actor=actor,
            )
        return subscription
    owed = ZERO
    if refund and subscription.status == Status.ACTIVE:
        owed = prorate_refund(
            monthly=subscription.period_price,
            paid=subscription.period_paid,
            start=subscription.current_period_start,
            end=subscription.current_period_end,
            now=timezone.now(),
        )
    end(subscription, Status.CANCELLED, reason="Cancelled", message="Cancelled by request.", refund=owed, actor=actor)
    return subscription


@transaction.atomic
def subscription_change_plan(*, subscription: Subscription, plan: Plan, actor=None) -> Subscription:
    """Move to another plan of the same service for the rest of the period: an upgrade charges the
    difference pro rata (402 if the balance does not cover it; 409 ``no_capacity`` if the cluster has
    no room for it), a downgrade credits it; the app is resized by the reconcile loop. A suspended
    subscription changes plan without money moving: its next payment is at the new price."""
    subscription = lock(subscription)
    if not subscription.is_live:
        raise InvalidState(f"A {subscription.status.lower()} subscription cannot change plan.")
    check_sellable(subscription.service, plan)
    if plan.pk == subscription.plan_id:
        return subscription
    old = subscription.plan
    if plan_requests(plan) != plan_requests(old):
        # A bigger app needs room; a smaller one frees some (the check then always passes).
        capacity_admit(plan=plan, leaving=subscription.instance)
    moved = ZERO
    if subscription.status == Status.ACTIVE:
        left = max(timedelta(0), subscription.current_period_end - timezone.now())
        new_price = plan_price(plan)
        if new_price > subscription.period_price:
            moved = -prorate_charge(new_price - subscription.period_price, left)
            if moved:
                wallet_charge(
                    user=subscription.user,
                    amount=-moved,
                    description=f"{subscription.name}: {old.name} to {plan.name} for the rest of the period",
                    subscription_id=subscription.pk,
                    idempotency_key=f"upgrade:{subscription.pk}:{timezone.now().isoformat()}",
                )
                subscription.period_paid -= moved
        elif new_price < subscription.period_price:
            moved = credit(
                subscription,
                prorate_credit(subscription.period_price - new_price, left),
                description=f"{subscription.name}: {old.name} to {plan.name}, unused difference",
                key=f"downgrade:{timezone.now().isoformat()}",
                reason="DowngradeCredited",
                actor=actor,
            )
        subscription.period_price = new_price
    subscription.plan = plan
    subscription.save(update_fields=["plan", "period_price", "period_paid", "updated_at"])
    record(subscription, reason="PlanChanged", message=f"{old.name} to {plan.name}.", amount=moved or None, actor=actor)
    instance_change_plan(instance=subscription.instance, plan=plan, actor=actor)
    return subscription


@transaction.atomic
def subscription_update(*, subscription: Subscription, data: dict, actor=None) -> Subscription:
    """Change ``auto_renew`` or ``name`` (the name shown; the app keeps its address)."""
    subscription = lock(subscription)
    fields = []
    if "name" in data:
        subscription.name = instance_name_clean(data["name"], default=subscription.name)
        fields.append("name")
    if "auto_renew" in data and data["auto_renew"] != subscription.auto_renew:
        subscription.auto_renew = data["auto_renew"]
        subscription.warned_for = None  # the warning depends on it: look again
        fields += ["auto_renew", "warned_for"]
        record(subscription, reason="AutoRenewOn" if subscription.auto_renew else "AutoRenewOff", actor=actor)
    if fields:
        subscription.save(update_fields=[*fields, "updated_at"])
    return subscription


@transaction.atomic
def subscription_extend(*, subscription: Subscription, days: int, reason: str, actor) -> Subscription:
    """An operator gives ``days`` more of the current period for free, with the reason recorded.
    A suspended subscription is resumed for that long (no payment)."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why."]})
    if not 1 <= days <= 366:
        raise ValidationError({"days": ["From 1 to 366."]})
    subscription = lock(subscription)
    check(subscription, Status.ACTIVE)
    if subscription.status == Status.SUSPENDED:
        start_period(subscription, start=timezone.now(), price=plan_price(subscription.plan))
        subscription.period_paid = ZERO
        subscription.current_period_end = subscription.current_period_start + timedelta(days=days)
        subscription.grace_until = None
        subscription.suspended_at = None
        transition(
            subscription,
            Status.ACTIVE,
            reason="Extended",
            message=reason.strip(),
            actor=actor,
            fields=(*PERIOD_FIELDS, "grace_until", "suspended_at"),
        )
        instance_start(instance=subscription.instance, actor=actor, reason="SubscriptionResumed")
        return subscription
    subscription.current_period_end += timedelta(days=days)
    subscription.save(update_fields=["current_period_end", "updated_at"])
    record(subscription, reason="Extended", message=f"{days} day(s): {reason.strip()}", actor=actor)
    return subscription


@transaction.atomic
def subscription_suspend(*, subscription: Subscription, reason: str, actor) -> Subscription:
    """An operator suspends an active subscription (the app stops, its data is kept) for the grace
    period; the owner can renew it to resume it."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why."]})
    subscription = lock(subscription)
    check(subscription, Status.SUSPENDED)
    suspend(subscription, reason="SuspendedByOperator", message=reason.strip())
    return subscription
