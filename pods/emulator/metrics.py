"""metrics.k8s.io: synthetic but plausible usage for Running pods and for nodes.

Each running container uses a share of its limit (or request, or a small default) that is fixed
per container (derived from its pod's uid and its name, so it is stable across calls) and drifts
slowly with time (a ten-minute sine); usage never exceeds the container's limits. CPU is reported
in nanocores (``n``), memory in ``Ki``, as metrics-server does. A node reports a small system
baseline plus the usage of its pods, capped at its capacity.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

from pods.quantity import QuantityError, kibibytes, nanocores, parse_quantity

from .meta import rfc3339

WINDOW = "30s"
_PERIOD = 600.0
_DEFAULT_CPU = Decimal("0.25")
_DEFAULT_MEMORY = Decimal(256 * 2**20)
API_VERSION = "metrics.k8s.io/v1beta1"


def _fraction(seed: str, low: float, high: float) -> float:
    digest = hashlib.sha256(seed.encode()).digest()
    return low + (high - low) * int.from_bytes(digest[:4], "big") / 2**32


def _phase(seed: str) -> float:
    return _fraction(seed + "/phase", 0, 2 * math.pi)


def _bound(resources: dict[str, Any], name: str, default: Decimal) -> tuple[Decimal, Decimal | None]:
    """The reference amount a container's usage is a share of, and its hard limit if any."""
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    try:
        limit = parse_quantity(limits[name]) if name in limits else None
        request = parse_quantity(requests[name]) if name in requests else None
    except QuantityError:
        return default, None
    return (limit or request or default), limit


def container_usage(pod_uid: str, container: dict[str, Any], now: float) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    seed = f"{pod_uid}/{container.get('name', '')}"
    wave = math.sin(2 * math.pi * now / _PERIOD + _phase(seed))
    cpu_ref, cpu_limit = _bound(resources, "cpu", _DEFAULT_CPU)
    mem_ref, mem_limit = _bound(resources, "memory", _DEFAULT_MEMORY)
    cpu = cpu_ref * Decimal(str(round(_fraction(seed + "/cpu", 0.05, 0.45) * (1 + 0.3 * wave), 6)))
    memory = mem_ref * Decimal(str(round(_fraction(seed + "/memory", 0.3, 0.7) * (1 + 0.1 * wave), 6)))
    if cpu_limit is not None:
        cpu = min(cpu, cpu_limit)
    if mem_limit is not None:
        memory = min(memory, mem_limit)
    return {"cpu": max(cpu, Decimal(0)), "memory": max(memory, Decimal(0))}


def _stamp(now: float) -> str:
    # metrics-server scrapes every 15 s: the timestamp moves in steps, not on every call.
    return rfc3339(now - now % 15)


def running_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    if (pod.get("status") or {}).get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
        return []
    running = {
        cs["name"]
        for cs in (pod.get("status") or {}).get("containerStatuses") or []
        if "running" in (cs.get("state") or {})
    }
    return [c for c in pod["spec"].get("containers") or [] if c.get("name") in running]


def pod_metrics(pod: dict[str, Any], now: float) -> dict[str, Any] | None:
    """The PodMetrics of a Running pod (its running containers), or None."""
    containers = running_containers(pod)
    if not containers:
        return None
    meta = pod["metadata"]
    usage = []
    for container in containers:
        used = container_usage(meta["uid"], container, now)
        usage.append(
            {"name": container["name"], "usage": {"cpu": nanocores(used["cpu"]), "memory": kibibytes(used["memory"])}}
        )
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "creationTimestamp": rfc3339(now),
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": _stamp(now),
        "window": WINDOW,
        "containers": usage,
    }


def node_metrics(node: dict[str, Any], pods: list[dict[str, Any]], now: float) -> dict[str, Any]:
    capacity = (node.get("status") or {}).get("capacity") or {}
    cpu_cap = parse_quantity(capacity.get("cpu", "0"))
    mem_cap = parse_quantity(capacity.get("memory", "0"))
    name = node["metadata"]["name"]
    cpu = cpu_cap * Decimal(str(round(_fraction(name + "/cpu", 0.02, 0.05), 6)))
    memory = mem_cap * Decimal(str(round(_fraction(name + "/memory", 0.08, 0.12), 6)))
    for pod in pods:
        for container in running_containers(pod):
            used = container_usage(pod["metadata"]["uid"], container, now)
            cpu += used["cpu"]
            memory += used["memory"]
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": name,
            "creationTimestamp": rfc3339(now),
            "labels": dict(node["metadata"].get("labels") or {}),
        },
        "timestamp": _stamp(now),
        "window": WINDOW,
        "usage": {"cpu": nanocores(min(cpu, cpu_cap)), "memory": kibibytes(min(memory, mem_cap))},
    }
