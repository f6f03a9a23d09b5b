"""Subscriptions' Celery tasks: each loads ids and calls one service."""

import logging

from celery import shared_task

from paas.queue import enqueue
from paas.task_aliases import renamed_task

from . import services

logger = logging.getLogger(__name__)


@renamed_task("subscriptions.billing_clock_tick", was="subscriptions.billing_clock", ignore_result=True)
def billing_clock_tick_task() -> dict:
    """Renew, suspend, expire and warn what is due, then catch up on reactions that were lost:
    instance follow-ups, and suspended subscriptions their owner's balance now pays for.
    Safe to overlap and to retry: batches are locked with SKIP LOCKED and every renewal charge
    carries its period's idempotency key (see ``services.clock``)."""
    report = services.billing_clock()
    for instance_id in services.followups_due():
        enqueue(instance_followup_task, str(instance_id))
    for user_id in services.resumes_due():
        enqueue(subscriptions_resume_paid_task, str(user_id))
    return vars(report)


@shared_task(name="subscriptions.instance_followup", ignore_result=True, acks_late=True)
def instance_followup_task(instance_id: str) -> str:
    """What an instance's failure or recovery means for its subscription. Idempotent: a state
    guard under the subscription's lock, and refunds and credits carry idempotency keys."""
    return services.instance_followup(instance_id=instance_id)


@renamed_task(
    "subscriptions.subscriptions_resume_paid", was="subscriptions.resume_paid", ignore_result=True, acks_late=True
)
def subscriptions_resume_paid_task(user_id: str) -> int:
    """Resume the owner's suspended subscriptions their balance now pays for. Idempotent: a
    resumed subscription is no longer SUSPENDED, and each resume charge has its own key."""
    return services.resume_paid(user_id=user_id)
