"""Plan-to-resources arithmetic: how a plan is split between containers, and what a namespace's
quota must allow. The renderer sizes containers with it; capacity admission (workers) counts
node room with ``plan_requests``, so both agree to the millicore with the quota.

A plan's ``cpu_millicores`` and ``memory_mb`` are the *limits* of its containers together;
each container *requests* a fixed share of its limit (CPU bursts well; memory is the real
isolation boundary, so it is requested closer to its limit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .exceptions import PlanTooSmall
from .registry import get_blueprint
from .types import PlanLike

# Share of each container's limit it requests: CPU bursts (throttling hurts Node/PHP start-up
# more than over-commit does), memory less so since it is the real isolation boundary.
CPU_REQUEST_PERCENT = 25
MEMORY_REQUEST_PERCENT = 50

# cert-manager's HTTP-01 solver pod (its default resources) runs in the customer's namespace
# while a certificate is issued: the quota keeps room for one, or issuance fails when full.
SOLVER_CPU_REQUEST_M, SOLVER_CPU_LIMIT_M = 10, 100
SOLVER_MEMORY_MI = 64


@dataclass(frozen=True)
class Resources:
    """One container's share of a plan: millicores, MiB of memory, MiB of storage."""

    cpu_request: int
    cpu_limit: int
    memory_request: int
    memory_limit: int
    storage: int

    def as_k8s(self) -> dict:
        return {
            "requests": {"cpu": f"{self.cpu_request}m", "memory": f"{self.memory_request}Mi"},
            "limits": {"cpu": f"{self.cpu_limit}m", "memory": f"{self.memory_limit}Mi"},
        }


@dataclass(frozen=True)
class Allocation:
    app: Resources
    database: Resources | None

    @property
    def containers(self) -> tuple[Resources, ...]:
        return (self.app,) if self.database is None else (self.app, self.database)


@dataclass(frozen=True)
class Requests:
    """What an instance's pods request from the scheduler, all containers together."""

    cpu_millicores: int
    memory_mb: int


def _split(total: int, percent: int) -> tuple[int, int]:
    first = total * percent // 100
    return first, total - first


def _resources(cpu: int, memory: int, storage: int) -> Resources:
    return Resources(
        cpu_request=max(1, cpu * CPU_REQUEST_PERCENT // 100),
        cpu_limit=cpu,
        memory_request=max(1, memory * MEMORY_REQUEST_PERCENT // 100),
        memory_limit=memory,
        storage=storage,
    )


def plan_allocation(plan: PlanLike) -> Allocation:
    """Split a plan between the app and its database. The limits add up to the plan exactly."""
    blueprint = get_blueprint(plan.service.template)
    cpu, memory, storage = int(plan.cpu_millicores), int(plan.memory_mb), int(plan.storage_gb) * 1024
    if blueprint.database is None:
        return Allocation(app=_resources(cpu, memory, storage), database=None)
    share = blueprint.share
    app_cpu, db_cpu = _split(cpu, share.cpu)
    app_mem, db_mem = _split(memory, share.memory)
    app_disk, db_disk = _split(storage, share.storage)
    if min(app_cpu, db_cpu, app_mem, db_mem, app_disk, db_disk) < 1:
        raise PlanTooSmall(f"Plan {plan.slug!r} is too small to split between {blueprint.name} and its database.")
    return Allocation(app=_resources(app_cpu, app_mem, app_disk), database=_resources(db_cpu, db_mem, db_disk))


def plan_requests(plan: PlanLike) -> Requests:
    """The CPU and memory an instance on ``plan`` requests: what a node must have free for it."""
    containers = plan_allocation(plan).containers
    return Requests(
        cpu_millicores=sum(c.cpu_request for c in containers),
        memory_mb=sum(c.memory_request for c in containers),
    )


def namespace_quota(
    plans: Iterable[PlanLike], *, retained: Iterable[PlanLike] = (), min_storage_gi: int = 0, min_claims: int = 0
) -> dict[str, str]:
    """The ResourceQuota ``hard`` of a namespace running ``plans`` (one per live instance).

    Limits are the sum of the plans (plus room for one certificate solver pod), requests the
    sum of what the containers request, storage the sum of the plans' storage. ``retained``
    are the plans of deleted instances whose volumes are kept for a while (an operator can
    still undo the delete): their claims still count, their containers no longer run.
    ``min_storage_gi`` and ``min_claims`` are what the namespace's volumes already hold: a
    volume never shrinks (a downgraded plan keeps its bigger disk), so the quota never goes below.
    """
    cpu_req = SOLVER_CPU_REQUEST_M
    cpu_lim = SOLVER_CPU_LIMIT_M
    mem_req = mem_lim = SOLVER_MEMORY_MI
    storage_gi = pods = pvcs = services = 0
    for plan in plans:
        containers = plan_allocation(plan).containers
        for res in containers:
            cpu_req += res.cpu_request
            cpu_lim += res.cpu_limit
            mem_req += res.memory_request
            mem_lim += res.memory_limit
        pods += len(containers)
        pvcs += len(containers)
        # One Service per container, and the ExternalName Service that serves the pause page.
        services += len(containers) + 1
        storage_gi += int(plan.storage_gb)
    for plan in retained:
        pvcs += len(plan_allocation(plan).containers)
        storage_gi += int(plan.storage_gb)
    return {
        "requests.cpu": f"{cpu_req}m",
        "limits.cpu": f"{cpu_lim}m",
        "requests.memory": f"{mem_req}Mi",
        "limits.memory": f"{mem_lim}Mi",
        "requests.storage": f"{max(storage_gi, min_storage_gi)}Gi",
        "persistentvolumeclaims": str(max(pvcs, min_claims)),
        # +1: the solver pod and its Service while a certificate is issued.
        "pods": str(pods + 1),
        "services": str(services + 1),
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }
