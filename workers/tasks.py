"""Worker nodes' periodic work: each task calls one service."""

import logging

from paas.task_aliases import renamed_task
from pods.cluster import ClusterError

from . import services

logger = logging.getLogger(__name__)


@renamed_task("workers.nodes_mark_offline", was="workers.mark_offline", ignore_result=True)
def nodes_mark_offline_task() -> int:
    """Silent nodes become OFFLINE, once each (SKIP LOCKED and a re-check under the lock)."""
    return len(services.nodes_mark_offline())


@renamed_task("workers.nodes_sync", was="workers.sync_nodes", ignore_result=True)
def nodes_sync_task() -> int:
    """The registry brought in line with the cluster's Node API. An idempotent upsert; an
    unreachable cluster is logged and skipped."""
    try:
        return services.nodes_sync().seen
    except ClusterError as exc:
        logger.warning("node sync skipped", extra={"error": exc.message})
        return 0
