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
from billing.hooks import Renewal
from paas.queue import enqueue
from pods.hooks import StatusChange
from pods.models import ServiceInstance
from subscriptions.models import Subscription

from .actions import subscription_renew
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


def balance_credited(user_id) -> None:
    """billing listener: money arrived; suspended subscriptions may now be paid."""
    if Subscription.objects.filter(user_id=user_id, status=Status.SUSPENDED).exists():
        from subscriptions.tasks import resume_paid_task

        enqueue(resume_paid_task, str(user_id))


def upcoming_renewals(user) -> list[Renewal]:
    """billing provider: what renews, when (a suspended subscription is due now)."""
    now, every = timezone.now(), period_length()
    renewals = []
    for subscription in Subscription.objects.filter(
        user=user, status__in=(Status.ACTIVE, Status.SUSPENDED)
    ).select_related("plan"):
        if subscription.status == Status.SUSPENDED:
            renewals.append(Renewal(due_at=now, amount=subscription.plan.price_monthly, every=every))
        elif subscription.auto_renew and not subscription.cancel_at_period_end:
            renewals.append(
                Renewal(due_at=subscription.current_period_end, amount=subscription.plan.price_monthly, every=every)
            )
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
    """Resume the owner's suspended subscriptions, oldest first, while the balance pays for them."""
    resumed = 0
    for subscription in Subscription.objects.filter(user_id=user_id, status=Status.SUSPENDED).order_by("suspended_at"):
        try:
            subscription_renew(subscription=subscription)
        except InsufficientBalance:
            break
        resumed += 1
    return resumed


def followups_due() -> list:
    """Instances whose state the subscriptions have not caught up with (a lost reaction)."""
    active = Subscription.objects.filter(status=Status.ACTIVE)
    failed = active.filter(instance__status=InstanceStatus.FAILED, instance__desired_state="RUNNING").exclude(
        downtime_since__isnull=False, instance__first_ready_at__isnull=False
    )
    recovered = active.filter(downtime_since__isnull=False).exclude(instance__status=InstanceStatus.FAILED)
    return list(failed.union(recovered).values_list("instance_id", flat=True))
