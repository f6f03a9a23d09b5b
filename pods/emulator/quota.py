"""ResourceQuota arithmetic: what an object charges to a quota, and a namespace's usage.

Charges follow the quota evaluators of a real cluster: a non-terminal pod charges ``pods``,
``requests.cpu``/``cpu``, ``requests.memory``/``memory``, ``limits.cpu``, ``limits.memory``; a
claim charges ``persistentvolumeclaims`` and ``requests.storage`` (and the per-storage-class
forms); a service ``services``, ``services.loadbalancers``, ``services.nodeports``; every object
``count/<resource>[.<group>]``. All arithmetic is exact (``quantity``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pods.quantity import QuantityError, format_like, parse_quantity

from . import resources as r
from .resources import ResourceType

Usage = dict[str, Decimal]

TERMINAL_PHASES = ("Succeeded", "Failed")
# Quota names that only pods charge, and that every container must then declare.
COMPUTE = {
    "cpu": ("requests", "cpu"),
    "requests.cpu": ("requests", "cpu"),
    "limits.cpu": ("limits", "cpu"),
    "memory": ("requests", "memory"),
    "requests.memory": ("requests", "memory"),
    "limits.memory": ("limits", "memory"),
}
_STANDARD_COUNTS = {
    r.PODS.key: "pods",
    r.SERVICES.key: "services",
    r.SECRETS.key: "secrets",
    r.CONFIGMAPS.key: "configmaps",
    r.PVCS.key: "persistentvolumeclaims",
    r.QUOTAS.key: "resourcequotas",
}


def _amount(values: Mapping[str, Any] | None, name: str) -> Decimal:
    try:
        return parse_quantity((values or {}).get(name, 0))
    except QuantityError:
        return Decimal(0)


def pod_resources(spec: Mapping[str, Any]) -> dict[str, Decimal]:
    """A pod's effective requests and limits: the sum over its containers, or the largest init
    container if that is more (init containers run one at a time, before the others)."""
    totals: dict[str, Decimal] = {}
    for kind in ("requests", "limits"):
        for name in ("cpu", "memory"):
            app = sum(
                (_amount((c.get("resources") or {}).get(kind), name) for c in spec.get("containers") or []), Decimal(0)
            )
            init = max(
                (_amount((c.get("resources") or {}).get(kind), name) for c in spec.get("initContainers") or []),
                default=Decimal(0),
            )
            totals[f"{kind}.{name}"] = max(app, init)
    return totals


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def charge(rt: ResourceType, obj: Mapping[str, Any] | None) -> Usage:
    """What ``obj`` charges to a quota in its namespace (empty for None)."""
    if obj is None:
        return {}
    usage: Usage = {f"count/{rt.key}": Decimal(1)}
    if rt.key in _STANDARD_COUNTS:
        usage[_STANDARD_COUNTS[rt.key]] = Decimal(1)
    if rt is r.PODS:
        if is_terminal(obj):
            return {}
        totals = pod_resources(obj.get("spec") or {})
        for name, (kind, resource) in COMPUTE.items():
            usage[name] = totals[f"{kind}.{resource}"]
    elif rt is r.PVCS:
        spec = obj.get("spec") or {}
        storage = _amount((spec.get("resources") or {}).get("requests"), "storage")
        usage["requests.storage"] = storage
        storage_class = spec.get("storageClassName")
        if storage_class:
            usage[f"{storage_class}.storageclass.storage.k8s.io/requests.storage"] = storage
            usage[f"{storage_class}.storageclass.storage.k8s.io/persistentvolumeclaims"] = Decimal(1)
    elif rt is r.SERVICES:
        spec = obj.get("spec") or {}
        stype = spec.get("type", "ClusterIP")
        usage["services.loadbalancers"] = Decimal(1 if stype == "LoadBalancer" else 0)
        node_ports = len(spec.get("ports") or []) if stype in ("NodePort", "LoadBalancer") else 0
        usage["services.nodeports"] = Decimal(node_ports)
    return usage


def missing_compute(spec: Mapping[str, Any], hard: Iterable[str]) -> dict[str, list[str]]:
    """Quota resource -> the containers that do not declare it (a real server refuses such pods)."""
    missing: dict[str, list[str]] = {}
    for name in hard:
        if name not in COMPUTE:
            continue
        kind, resource = COMPUTE[name]
        for group in ("initContainers", "containers"):
            for c in spec.get(group) or []:
                if resource not in ((c.get("resources") or {}).get(kind) or {}):
                    missing.setdefault(name, []).append(c.get("name", ""))
    return missing


def add(total: Usage, more: Mapping[str, Decimal], sign: int = 1) -> None:
    for name, value in more.items():
        total[name] = total.get(name, Decimal(0)) + sign * value


def format_usage(values: Mapping[str, Decimal], hard: Mapping[str, Any]) -> dict[str, str]:
    """Quantities in the style of the quota's own ``hard`` values (``Mi`` stays binary)."""
    ordered = [name for name in hard if name in values] + [name for name in values if name not in hard]
    return {name: format_like(values[name], hard.get(name, "0")) for name in ordered}


def tracked_kinds(hard: Iterable[str]) -> set[str]:
    """The store keys whose objects can charge any of the ``hard`` resource names."""
    kinds: set[str] = set()
    for name in hard:
        if name in COMPUTE or name == "pods":
            kinds.add(r.PODS.key)
        elif name.startswith("count/"):
            kinds.add(name[len("count/") :])
        elif name in ("persistentvolumeclaims", "requests.storage") or ".storageclass.storage.k8s.io/" in name:
            kinds.add(r.PVCS.key)
        elif name.startswith("services"):
            kinds.add(r.SERVICES.key)
        else:
            kinds.update(key for key, count in _STANDARD_COUNTS.items() if count == name)
    return kinds
