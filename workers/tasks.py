"""Worker nodes' periodic work: each task calls one service."""

import logging

from celery import shared_task

from pods.cluster import ClusterError

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="workers.mark_offline", ignore_result=True)
def mark_offline_task() -> int:
    """Silent nodes become OFFLINE, once each (SKIP LOCKED and a re-check under the lock)."""
    return len(services.nodes_mark_offline())


@shared_task(name="workers.sync_nodes", ignore_result=True)
def sync_nodes_task() -> int:
    """The registry brought in line with the cluster's Node API. An idempotent upsert; an
    unreachable cluster is logged and skipped."""
    try:
        return services.nodes_sync().seen
    except ClusterError as exc:
        logger.warning("node sync skipped", extra={"error": exc.message})
        return 0
