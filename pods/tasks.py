"""The reconcile loop's Celery tasks: each loads ids and calls one service."""

import logging

from paas.task_aliases import renamed_task

from . import services
from .cluster import ClusterUnavailable

logger = logging.getLogger(__name__)


@renamed_task("pods.instance_reconcile", was="pods.reconcile_instance", ignore_result=True, acks_late=True)
def instance_reconcile_task(instance_id: str) -> str:
    """Reconcile one instance. Idempotent: a lease allows one at a time, and a pass writes only
    what differs, so a duplicate or a redelivery after a crash finishes the job or does nothing.
    Failures are retried by the loop itself (``next_reconcile_at``), never by Celery."""
    return services.reconcile(instance_id).outcome


@renamed_task("pods.instances_reconcile_due", was="pods.reconcile_due", ignore_result=True)
def instances_reconcile_due_task() -> int:
    """Queue a reconcile for each instance whose next look is due. Safe to overlap (leases)."""
    return services.reconcile_due()


@renamed_task("pods.instances_sweep", was="pods.sweep", ignore_result=True)
def instances_sweep_task() -> int:
    """Compare every instance with the cluster; reads only, queues reconciles for what differs.
    An unreachable cluster is logged and skipped: the next sweep tries again."""
    try:
        return len(services.sweep().queued)
    except ClusterUnavailable as exc:
        logger.warning("sweep skipped: the cluster cannot be reached", extra={"error": exc.message})
        return 0


@renamed_task("pods.instances_purge_due", was="pods.purge", ignore_result=True)
def instances_purge_due_task() -> int:
    """Purge deleted instances past their retention window. Safe to repeat (state guard + lease)."""
    return services.purge_due()
