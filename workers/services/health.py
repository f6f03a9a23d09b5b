"""Which nodes are alive: heartbeats that stopped, and the cluster's own Node API."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from notifications.services import email_queue
from pods.cluster import Cluster
from pods.models import ServiceInstance
from pods.quantity import QuantityError, parse_quantity
from pods.services.cluster import get_cluster
from pods.services.observe import MANAGED, instance_label
from workers.models import WorkerNode

from .registry import event_record

logger = logging.getLogger(__name__)

Status = WorkerNode.Status


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT)


def _alert_operators(node: WorkerNode, at_risk: int) -> None:
    """Email every active administrator that ``node`` went silent."""
    for operator in get_user_model().objects.filter(role="ADMINISTRATOR", is_active=True):
        email_queue(
            user=operator,
            template="node-offline",
            context={"node": {"name": node.name, "last_heartbeat_at": node.last_heartbeat_at}, "at_risk": at_risk},
            event="node.offline",
        )


@transaction.atomic
def nodes_mark_offline() -> list[WorkerNode]:
    """Nodes whose agent has not reported for ``WORKER_HEARTBEAT_TIMEOUT`` become OFFLINE, each
    exactly once: rows are taken with SKIP LOCKED and re-checked under their lock, so two beats
    racing never mark (or alert about) the same node twice."""
    cutoff = timezone.now() - heartbeat_timeout()
    silent = list(
        WorkerNode.objects.select_for_update(skip_locked=True)
        .filter(last_heartbeat_at__lt=cutoff)
        .exclude(status=Status.OFFLINE)
        .exclude(token_hash="")
    )
    for node in silent:
        old = node.status
        node.status = Status.OFFLINE
        node.save(update_fields=["status", "updated_at"])
        at_risk = ServiceInstance.objects.live().filter(node=node.name).count()
        event_record(
            node,
            reason="HeartbeatsStopped",
            message=f"No report since {node.last_heartbeat_at:%Y-%m-%d %H:%M:%S} UTC; {at_risk} app(s) at risk.",
            old=old,
            new=node.status,
        )
        logger.warning("worker node offline", extra={"node": node.name, "at_risk": at_risk})
        _alert_operators(node, at_risk)
    return silent


def _millicores(value) -> int:
    return int(parse_quantity(value) * 1000)


def _mebibytes(value) -> int:
    return int(parse_quantity(value) / 2**20)


def _resources(status: dict, key: str) -> tuple[int, int, int]:
    res = status.get(key) or {}
    try:
        return _millicores(res.get("cpu", 0)), _mebibytes(res.get("memory", 0)), int(parse_quantity(res.get("pods", 0)))
    except QuantityError:
        return 0, 0, 0


def _ready(node: dict) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _address(node: dict, kind: str) -> str:
    return next((a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == kind), "")


@dataclass
class SyncReport:
    seen: int = 0
    created: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    gone: list = field(default_factory=list)
    placements: int = 0


@transaction.atomic
def _sync_one(node: dict, report: SyncReport) -> None:
    meta, status = node["metadata"], node.get("status") or {}
    row, created = WorkerNode.objects.select_for_update().get_or_create(
        name=meta["name"], defaults={"source": WorkerNode.Source.CLUSTER}
    )
    old = row.status
    row.cpu_millicores, row.memory_mb, row.pods = _resources(status, "capacity")
    row.allocatable_cpu_millicores, row.allocatable_memory_mb, row.allocatable_pods = _resources(status, "allocatable")
    row.kubelet_version = ((status.get("nodeInfo") or {}).get("kubeletVersion") or "")[:64]
    row.labels = meta.get("labels") or {}
    row.hostname = _address(node, "Hostname") or row.hostname
    row.ip_address = _address(node, "InternalIP") or row.ip_address
    row.unschedulable = bool((node.get("spec") or {}).get("unschedulable"))
    row.conditions = [
        {k: c.get(k) for k in ("type", "status", "reason", "message")} for c in status.get("conditions") or []
    ]
    if not _ready(node):
        row.status = Status.NOT_READY
    elif not row.token_hash or old != Status.OFFLINE:
        # An agent's silence is for the heartbeat timeout to judge; the cluster vouches for the rest.
        row.status = Status.READY
    row.save()
    if created:
        report.created.append(row.name)
        event_record(row, reason="Discovered", message="Found in the cluster's Node API.", new=row.status)
    elif old != row.status:
        report.changed.append(row.name)
        event_record(row, reason="NodeReady" if row.status == Status.READY else "NodeNotReady", old=old, new=row.status)


def nodes_sync(*, cluster: Cluster | None = None) -> SyncReport:
    """Bring the registry in line with the cluster's Node API (one list), and record which node
    each instance's app runs on (one list of the platform's pods)."""
    cluster = cluster or get_cluster()
    nodes = cluster.list("Node")
    report = SyncReport(seen=len(nodes))
    for node in nodes:
        _sync_one(node, report)
    names = {n["metadata"]["name"] for n in nodes}
    for row in (
        WorkerNode.objects.filter(source=WorkerNode.Source.CLUSTER, token_hash="")
        .exclude(name__in=names)
        .exclude(status=Status.OFFLINE)
    ):
        old, row.status = row.status, Status.OFFLINE
        row.save(update_fields=["status", "updated_at"])
        event_record(row, reason="RemovedFromCluster", old=old, new=row.status)
        report.gone.append(row.name)
    report.placements = _sync_placements(cluster)
    return report


def _sync_placements(cluster: Cluster) -> int:
    """Each running instance's node, from where its app's pod is scheduled."""
    placed = {}
    for pod in cluster.list("Pod", labels={**MANAGED, "app.kubernetes.io/component": "web"}):
        node = (pod.get("spec") or {}).get("nodeName")
        if node and not (pod.get("metadata") or {}).get("deletionTimestamp"):
            placed[instance_label(pod)] = node
    changed = 0
    for instance_id, node in ServiceInstance.objects.filter(pk__in=list(placed)).values_list("pk", "node"):
        if placed[str(instance_id)] != node:
            changed += ServiceInstance.objects.filter(pk=instance_id).update(node=placed[str(instance_id)])
    return changed
