"""Billing's periodic and retried work; each task loads ids and calls one service."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from paas.queue import enqueue
from paas.task_aliases import renamed_task

from . import selectors, services
from .gateways import GatewayUnavailable
from .models import Transaction


@renamed_task("billing.topups_reconcile", was="billing.reconcile_topups", ignore_result=True)
def topups_reconcile_task() -> int:
    """Find PENDING top-ups past their deadline or waiting longer than TOPUP_STALE_MINUTES and
    queue one sync each. Idempotent: the sync is a state guard, so overlapping runs are harmless."""
    now = timezone.now()
    stale = now - timedelta(minutes=settings.TOPUP_STALE_MINUTES)
    # Oldest first and capped, so a backlog drains over a few runs instead of flooding the queue.
    ids = selectors.topups_due_for_sync(now=now, stale_before=stale, limit=500)
    for topup_id in ids:
        enqueue(topup_sync_task, str(topup_id))
    return len(ids)


@renamed_task(
    "billing.topup_sync",
    was="billing.sync_topup",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(GatewayUnavailable,),
    retry_backoff=60,
    retry_backoff_max=600,
    max_retries=5,
)
def topup_sync_task(topup_id: str) -> None:
    """Ask the gateway about one top-up and apply the answer (recipe 1: state guard)."""
    if not Transaction.objects.filter(pk=topup_id, status=Transaction.Status.PENDING).exists():
        return
    services.topup_sync(topup_id=topup_id)
