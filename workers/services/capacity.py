"""Capacity admission: no customer pays for an app the cluster has no room for.

Room is counted the way the namespace quotas count it (``templates.resources.plan_requests``): the
CPU and memory the apps' containers *request*, against what READY, uncordoned, schedulable nodes
make allocatable, times ``PAAS_OVERCOMMIT_RATIO``. Every instance holding capacity (running or
stopped: a stopped app may start again at any time; ``ServiceInstance.objects.holding_capacity``)
holds its room.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Sum

from catalog.models import Plan
from paas.locks import transaction_lock
from pods.cluster import ClusterError
from pods.models import ServiceInstance
from templates.resources import plan_requests
from workers.exceptions import NoCapacity
from workers.models import WorkerNode

from .health import nodes_sync

LOCK = "workers.capacity"


@dataclass(frozen=True)
class Headroom:
    nodes: int
    allocatable_cpu_millicores: int
    allocatable_memory_mb: int
    requested_cpu_millicores: int
    requested_memory_mb: int
    largest_node_cpu_millicores: int
    largest_node_memory_mb: int

    @property
    def free_cpu_millicores(self) -> int:
        return self.allocatable_cpu_millicores - self.requested_cpu_millicores

    @property
    def free_memory_mb(self) -> int:
        return self.allocatable_memory_mb - self.requested_memory_mb


def _placeable():
    return WorkerNode.objects.filter(status=WorkerNode.Status.READY, cordoned=False, unschedulable=False)


def headroom(*, leaving=None) -> Headroom:
    """The cluster's room (after overcommit) and what the instances holding capacity request of it; ``leaving``
    (an instance about to change plan) is not counted."""
    ratio = settings.PAAS_OVERCOMMIT_RATIO
    nodes = _placeable().aggregate(
        count=Count("id"),
        cpu=Sum("allocatable_cpu_millicores"),
        memory=Sum("allocatable_memory_mb"),
    )
    largest = (
        _placeable()
        .order_by("-allocatable_cpu_millicores")
        .values_list("allocatable_cpu_millicores", "allocatable_memory_mb")
    )
    cpu = memory = 0
    holding = ServiceInstance.objects.holding_capacity()
    if leaving is not None:
        holding = holding.exclude(pk=leaving.pk)
    counts = dict(holding.values_list("plan_id").annotate(n=Count("id")).values_list("plan_id", "n"))
    for plan in Plan.objects.filter(pk__in=counts).select_related("service"):
        needs = plan_requests(plan)
        cpu += needs.cpu_millicores * counts[plan.pk]
        memory += needs.memory_mb * counts[plan.pk]
    return Headroom(
        nodes=nodes["count"],
        allocatable_cpu_millicores=int((nodes["cpu"] or 0) * ratio),
        allocatable_memory_mb=int((nodes["memory"] or 0) * ratio),
        requested_cpu_millicores=cpu,
        requested_memory_mb=memory,
        largest_node_cpu_millicores=max((c for c, _ in largest), default=0),
        largest_node_memory_mb=max((m for _, m in largest), default=0),
    )


def capacity_admit(*, plan, leaving=None) -> Headroom:
    """Refuse with ``NoCapacity`` (409 ``no_capacity``) when ``plan`` does not fit, else hold the
    capacity lock until the caller's transaction ends, so two purchases never both take the last
    room. ``leaving``: the instance a plan change replaces (its current room is freed)."""
    transaction_lock(LOCK)
    if not WorkerNode.objects.exists():
        # A fresh installation, before the first node sync: ask the cluster now.
        try:
            nodes_sync()
        except ClusterError as exc:
            raise NoCapacity("The cluster cannot be reached to check its room; please try again shortly.") from exc
    room = headroom(leaving=leaving)
    needs = plan_requests(plan)
    fits = (
        needs.cpu_millicores <= room.free_cpu_millicores
        and needs.memory_mb <= room.free_memory_mb
        # The app and its database are placed together as far as this check goes: the biggest
        # node must be able to hold them (conservative; a cluster of tiny nodes is refused early).
        and needs.cpu_millicores <= room.largest_node_cpu_millicores * settings.PAAS_OVERCOMMIT_RATIO
        and needs.memory_mb <= room.largest_node_memory_mb * settings.PAAS_OVERCOMMIT_RATIO
    )
    if not fits:
        raise NoCapacity(
            extra={
                "requested": {"cpu_millicores": needs.cpu_millicores, "memory_mb": needs.memory_mb},
                "free": {"cpu_millicores": max(0, room.free_cpu_millicores), "memory_mb": max(0, room.free_memory_mb)},
            }
        )
    return room
