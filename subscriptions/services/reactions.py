"""How subscriptions react to what other apps report: an instance that failed or came back
(pods), money that arrived (billing), and the renewals billing asks about for the runway.

Each reaction is idempotent (it looks at the current state under the subscription's lock), so
the billing clock also runs them as a safety net for a reaction that was lost.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.exceptions import InsufficientBalance
from billing.hooks import BalanceCredited, Renewal
from catalog.pricing import plan_price_of
from paas.bulk import any_of
from paas.exceptions import InvalidState
from paas.queue import enqueue
from pods.hooks import StatusChange
from pods.models import ServiceInstance
from subscriptions.models import Subscription

from .actions import subscription_resume
from .lifecycle import end, lock, settle_downtime
from .money import period_length
from .transitions import record

logger = logging.getLogger(__name__)

Status = Subscription.Status
InstanceStatus = ServiceInstance.Status


def instance_status_changed(change: StatusChange) -> None:
    """pods listener: a failure or a recovery of an instance may move money."""
    if change.new == InstanceStatus.FAILED or change.old == InstanceStatus.FAILED:
        from subscriptions.tasks import instance_followup_task

        enqueue(instance_followup_task, str(change.instance_id))


def balance_credited(credit: BalanceCredited) -> None:
    """billing listener: money arrived; suspended subscriptions may now be paid."""
    if Subscription.objects.resumable().filter(user_id=credit.user_id).exists():
        from subscriptions.tasks import subscriptions_resume_paid_task

        enqueue(subscriptions_resume_paid_task, str(credit.user_id))


def upcoming_renewals(user) -> list[Renewal]:
    """billing provider: what renews, when (a suspended subscription is due now)."""
    return renewals_of([user.pk], now=timezone.now())[user.pk]


def renewals_of(user_ids, *, now) -> dict:
    """``upcoming_renewals`` of many users in one query: user id -> their renewals."""
    every = period_length()
    renewals: dict = {user_id: [] for user_id in user_ids}
    live = (
        Subscription.objects.live()
        .filter(any_of(Subscription, "user", list(renewals)))
        .annotate(price=plan_price_of("plan"))
        .values_list("user_id", "status", "auto_renew", "cancel_at_period_end", "current_period_end", "price")
    )
    for user_id, status, auto_renew, cancelling, period_end, price in live:
        if status == Status.SUSPENDED:
            renewals[user_id].append(Renewal(due_at=now, amount=price, every=every))
        elif auto_renew and not cancelling:
            renewals[user_id].append(Renewal(due_at=period_end, amount=price, every=every))
    return renewals


@transaction.atomic
def instance_followup(*, instance_id) -> str:
    """Settle what an instance's state means for its subscription, now:

    - FAILED without ever having run (a first provisioning that failed): the customer paid for
      nothing, so what they paid for the period is refunded and the subscription cancelled;
    - FAILED after it had run, while the owner wants it running: downtime starts to count;
    - running again after a failure: the downtime is credited pro rata.
    Returns what it did (for logs and tests).
    """
    subscription = Subscription.objects.filter(instance_id=instance_id, status=Status.ACTIVE).first()
    if subscription is None:
        return "nothing"
    subscription = lock(subscription)
    instance = subscription.instance
    if subscription.status != Status.ACTIVE:
        return "nothing"
    wants_running = instance.desired_state == ServiceInstance.DesiredState.RUNNING
    if instance.status == InstanceStatus.FAILED and wants_running:
        if instance.first_ready_at is None:
            why = instance.status_message or "the app did not start"
            end(
                subscription,
                Status.CANCELLED,
                reason="ProvisioningFailed",
                message=f"{subscription.service.name} could not be started: {why}"[:500],
                refund=subscription.period_paid,
            )
            return "refunded"
        if subscription.downtime_since is None:
            subscription.downtime_since = timezone.now()
            subscription.downtime_reason = instance.status_message[:500]
            subscription.save(update_fields=["downtime_since", "downtime_reason", "updated_at"])
            record(subscription, reason="DowntimeStarted", message=instance.status_message)
            return "downtime started"
        return "nothing"
    if subscription.downtime_since is not None and instance.status != InstanceStatus.FAILED:
        settle_downtime(subscription, until=timezone.now())
        return "downtime credited"
    return "nothing"


def resume_paid(*, user_id) -> int:
    """Resume the owner's suspended subscriptions, oldest first, while the balance pays for them.
    One whose owner turned automatic renewal off waits for them to renew it: money arriving is
    not their consent to be charged for it."""
    resumed = 0
    for subscription in Subscription.objects.resumable().filter(user_id=user_id).order_by("suspended_at"):
        try:
            subscription_resume(subscription=subscription)
        except InvalidState:  # resumed meanwhile (its owner, an operator): nothing to pay
            continue
        except InsufficientBalance:
            break
        resumed += 1
    return resumed


def resumes_due(*, now=None) -> list:
    """Owners whose balance pays for one of their suspended subscriptions already: money whose
    ``balance_credited`` reaction was lost (a broker down at the commit) still resumes them."""
    return list(
        Subscription.objects.resumable()
        .filter(
            grace_until__gt=now or timezone.now(),
            user__wallet__balance__gte=plan_price_of("plan"),
        )
        .values_list("user_id", flat=True)
        .distinct()
    )


def followups_due() -> list:
    """Instances whose state the subscriptions have not caught up with (a lost reaction)."""
    active = Subscription.objects.filter(status=Status.ACTIVE)
    failed = active.filter(instance__status=InstanceStatus.FAILED, instance__desired_state="RUNNING").exclude(
        downtime_since__isnull=False, instance__first_ready_at__isnull=False
    )
    recovered = active.filter(downtime_since__isnull=False).exclude(instance__status=InstanceStatus.FAILED)
    # Without the default ordering: SQLite refuses ORDER BY inside a UNION.
    ids = failed.order_by().values_list("instance_id", flat=True)
    return list(ids.union(recovered.order_by().values_list("instance_id", flat=True)))
