"""Admission: the built-in plugins a real API server runs after validation, before storing.

- NamespaceLifecycle: no object in a namespace that does not exist (404) or is being deleted
  (403), and the system namespaces cannot be deleted;
- LimitRanger: containers without requests/limits get the namespace's LimitRange defaults, and
  min/max are enforced;
- ResourceQuota: a create or update that would take any quota of the namespace over ``hard`` is
  refused (403, ``exceeded quota: ...``), as is a pod that does not declare a resource a quota
  tracks (``failed quota: ...: must specify ...``).

Controllers creating pods and claims go through the same checks, so a quota stops a Deployment's
pods exactly as on a real cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pods.quantity import QuantityError, format_like, parse_quantity

from . import quota
from . import resources as r
from .errors import ApiError, forbidden, not_found
from .resources import ResourceType
from .store import Store

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Admission:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- NamespaceLifecycle ---------------------------------------------------------------

    def namespace_open(self, rt: ResourceType, namespace: str, name: str) -> None:
        """Raise unless new objects may be created in ``namespace``."""
        ns = self.store.get(r.NAMESPACES, "", namespace)
        if ns is None:
            raise not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            error = forbidden(
                rt.plural,
                rt.group,
                name,
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )
            assert error.details is not None
            error.details["causes"] = [
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ]
            raise error

    @staticmethod
    def namespace_deletable(name: str) -> None:
        if name in SYSTEM_NAMESPACES:
            raise forbidden("namespaces", "", name, "this namespace may not be deleted")

    # --- LimitRanger ----------------------------------------------------------------------

    def limit_ranges(self, pod: dict[str, Any]) -> None:
        """Fill missing container requests/limits from LimitRange defaults; enforce min/max."""
        namespace = pod["metadata"].get("namespace", "")
        items = [
            item
            for lr in self.store.list(r.LIMITRANGES, namespace)
            for item in (lr.get("spec") or {}).get("limits") or []
            if item.get("type") == "Container"
        ]
        if not items:
            return
        problems: list[str] = []
        for group in ("initContainers", "containers"):
            for container in pod.get("spec", {}).get(group) or []:
                resources = container.setdefault("resources", {})
                for item in items:
                    default = item.get("default") or item.get("max") or {}
                    default_request = item.get("defaultRequest") or default
                    limits = resources.setdefault("limits", {})
                    requests = resources.setdefault("requests", {})
                    for name, value in default.items():
                        limits.setdefault(name, value)
                    for name, value in default_request.items():
                        requests.setdefault(name, value)
                    problems.extend(_min_max(item, resources))
                for key in ("limits", "requests"):
                    if not resources.get(key):
                        resources.pop(key, None)
        if problems:
            raise forbidden("pods", "", pod["metadata"].get("name", ""), "[" + ", ".join(problems) + "]")

    # --- ResourceQuota --------------------------------------------------------------------

    def usage(self, namespace: str, names: set[str], *, exclude: tuple[str, str] | None = None) -> quota.Usage:
        """What the objects in ``namespace`` charge, for the quota resource ``names``."""
        used: quota.Usage = {name: Decimal(0) for name in names}
        for key in quota.tracked_kinds(names):
            try:
                rt = r.by_key(key)
            except KeyError:
                continue
            for obj in self.store.iter(rt, namespace):
                if exclude == (rt.key, obj["metadata"]["name"]):
                    continue
                for name, value in quota.charge(rt, obj).items():
                    if name in used:
                        used[name] += value
        return used

    def check_quota(
        self, rt: ResourceType, obj: Mapping[str, Any], old: Mapping[str, Any] | None, namespace: str
    ) -> None:
        """Raise 403 if storing ``obj`` (replacing ``old``) would exceed a quota of ``namespace``."""
        quotas = self.store.list(r.QUOTAS, namespace)
        if not quotas:
            return
        name = obj["metadata"].get("name", "")
        delta = quota.charge(rt, obj)
        quota.add(delta, quota.charge(rt, old), -1)
        for q in quotas:
            hard_raw = (q.get("spec") or {}).get("hard") or {}
            if rt is r.PODS and old is None:
                missing = quota.missing_compute(obj.get("spec") or {}, hard_raw)
                if missing:
                    listing = "; ".join(f"{res} for: {','.join(names)}" for res, names in sorted(missing.items()))
                    raise forbidden(
                        rt.plural, rt.group, name, f"failed quota: {q['metadata']['name']}: must specify {listing}"
                    )
            relevant = {res for res in hard_raw if delta.get(res, Decimal(0)) > 0}
            if not relevant:
                continue
            used = self.usage(namespace, relevant, exclude=(rt.key, name))
            quota.add(used, quota.charge(rt, old))
            exceeded = []
            for res in sorted(relevant):
                try:
                    hard = parse_quantity(hard_raw[res])
                except QuantityError:
                    continue
                if used[res] + delta[res] > hard:
                    exceeded.append(res)
            if exceeded:
                raise _exceeded(rt, name, q["metadata"]["name"], exceeded, delta, used, hard_raw)


def _exceeded(
    rt: ResourceType,
    name: str,
    quota_name: str,
    exceeded: list[str],
    delta: quota.Usage,
    used: quota.Usage,
    hard: Mapping[str, Any],
) -> ApiError:
    def listing(values: Mapping[str, Any]) -> str:
        return ",".join(f"{res}={values[res]}" for res in exceeded)

    requested = {res: format_like(delta[res], hard[res]) for res in exceeded}
    in_use = {res: format_like(used[res], hard[res]) for res in exceeded}
    limited = {res: hard[res] for res in exceeded}
    why = (
        f"exceeded quota: {quota_name}, requested: {listing(requested)}, used: {listing(in_use)}, "
        f"limited: {listing(limited)}"
    )
    return forbidden(rt.plural, rt.group, name, why)


def _min_max(item: Mapping[str, Any], resources: Mapping[str, Any]) -> list[str]:
    problems = []
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    for name, bound in (item.get("max") or {}).items():
        if name in limits and parse_quantity(limits[name]) > parse_quantity(bound):
            problems.append(f"maximum {name} usage per Container is {bound}, but limit is {limits[name]}")
    for name, bound in (item.get("min") or {}).items():
        if name in requests and parse_quantity(requests[name]) < parse_quantity(bound):
            problems.append(f"minimum {name} usage per Container is {bound}, but request is {requests[name]}")
    return problems
