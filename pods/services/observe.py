"""What the cluster holds: the platform's objects in a namespace, read with one list per kind.

Only objects labelled ``app.kubernetes.io/managed-by=paas`` are read (and ever touched), so
another tool's objects in a customer namespace are invisible to the reconcile loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pods.cluster import Cluster
from templates.renderer import LABEL_INSTANCE_ID, MANAGED_BY

# The one filter of every read: the platform sees (and touches) only what it labelled.
MANAGED = {"app.kubernetes.io/managed-by": MANAGED_BY}

# Everything the templates render inside a namespace, plus the pods the workloads run.
NAMESPACED_KINDS = (
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "StatefulSet",
    "Deployment",
    "Ingress",
    "Pod",
)


def instance_label(obj: dict) -> str:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_INSTANCE_ID, "")


@dataclass
class Observed:
    """The platform's objects in one namespace (each with ``kind`` filled in), as last read."""

    namespace: str
    namespace_object: dict | None
    objects: dict[tuple[str, str], dict] = field(default_factory=dict)

    @property
    def terminating(self) -> bool:
        return bool(self.namespace_object) and (self.namespace_object.get("status") or {}).get("phase") == "Terminating"

    def terminating_for(self, now: datetime) -> timedelta:
        """How long the namespace has been being deleted (zero when it is not, or unknown)."""
        stamp = ((self.namespace_object or {}).get("metadata") or {}).get("deletionTimestamp")
        if not self.terminating or not stamp:
            return timedelta(0)
        try:
            since = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return timedelta(0)
        return max(timedelta(0), now - since)

    def get(self, kind: str, name: str) -> dict | None:
        if kind == "Namespace":
            return self.namespace_object
        return self.objects.get((kind, name))

    def of_instance(self, instance_id, kinds: Iterable[str] | None = None) -> list[dict]:
        wanted = set(kinds) if kinds is not None else None
        label = str(instance_id)
        return [
            obj
            for (kind, _), obj in self.objects.items()
            if instance_label(obj) == label and (wanted is None or kind in wanted)
        ]

    def add(self, kind: str, obj: dict) -> None:
        obj["kind"] = kind
        self.objects[(kind, obj["metadata"]["name"])] = obj


def observe(cluster: Cluster, namespace: str) -> Observed:
    """Read one namespace: the Namespace, then one list per kind (none if it does not exist)."""
    observed = Observed(namespace=namespace, namespace_object=cluster.get("Namespace", namespace))
    if observed.namespace_object is None:
        return observed
    for kind in NAMESPACED_KINDS:
        for obj in cluster.list(kind, namespace=namespace, labels=MANAGED):
            observed.add(kind, obj)
    return observed


def observe_instance(cluster: Cluster, instance) -> Observed:
    """Only an instance's workloads and pods: three reads, for a person waiting on an answer."""
    observed = Observed(namespace=instance.namespace, namespace_object=None)
    for kind in ("StatefulSet", "Deployment", "Pod"):
        for obj in cluster.list(kind, namespace=instance.namespace, labels={LABEL_INSTANCE_ID: str(instance.pk)}):
            observed.add(kind, obj)
    return observed


def observe_everywhere(cluster: Cluster) -> dict[str, Observed]:
    """Every namespace holding the platform's objects, with one cluster-wide list per kind."""
    by_namespace: dict[str, Observed] = {}
    for ns in cluster.list("Namespace", labels=MANAGED):
        name = ns["metadata"]["name"]
        ns["kind"] = "Namespace"
        by_namespace[name] = Observed(namespace=name, namespace_object=ns)
    strays: dict[str, Observed] = defaultdict(lambda: Observed(namespace="", namespace_object=None))
    for kind in NAMESPACED_KINDS:
        for obj in cluster.list(kind, labels=MANAGED):
            ns = obj["metadata"].get("namespace", "")
            target = by_namespace.get(ns)
            if target is None:
                # Our label in a namespace we did not label: still ours to find (orphans).
                target = strays[ns]
                target.namespace = ns
            target.add(kind, obj)
    return {**strays, **by_namespace}
