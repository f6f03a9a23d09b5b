"""The Kubernetes kinds the platform reads and writes, and where the official client serves them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One API resource: its client class and the snake_case stem of that class's methods
    (``list_namespaced_<stem>``, ``patch_<stem>``, ...)."""

    kind: str
    api: str
    stem: str
    plural: str
    group: str = ""
    namespaced: bool = True


KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        Kind("Namespace", "CoreV1Api", "namespace", "namespaces", namespaced=False),
        Kind("Node", "CoreV1Api", "node", "nodes", namespaced=False),
        Kind("ResourceQuota", "CoreV1Api", "resource_quota", "resourcequotas"),
        Kind("LimitRange", "CoreV1Api", "limit_range", "limitranges"),
        Kind("Secret", "CoreV1Api", "secret", "secrets"),
        Kind("PersistentVolumeClaim", "CoreV1Api", "persistent_volume_claim", "persistentvolumeclaims"),
        Kind("Service", "CoreV1Api", "service", "services"),
        Kind("Pod", "CoreV1Api", "pod", "pods"),
        Kind("Event", "CoreV1Api", "event", "events"),
        Kind("Deployment", "AppsV1Api", "deployment", "deployments", "apps"),
        Kind("StatefulSet", "AppsV1Api", "stateful_set", "statefulsets", "apps"),
        Kind("Ingress", "NetworkingV1Api", "ingress", "ingresses", "networking.k8s.io"),
        Kind("NetworkPolicy", "NetworkingV1Api", "network_policy", "networkpolicies", "networking.k8s.io"),
    )
}

# Workloads whose pods the platform waits for, in the order their readiness is reported.
WORKLOADS = ("StatefulSet", "Deployment")
