"""The Kubernetes permissions the backend needs: exactly what ``k8s/rbac.yaml`` grants.

``manage.py cluster_check`` asks the API server about each (SelfSubjectAccessReview), and a
test keeps this list and the shipped ClusterRole identical.
"""

from __future__ import annotations

from dataclasses import dataclass

# Server-side apply is a PATCH that creates the object when it is missing: both verbs are needed.
_MANAGE = ("get", "list", "create", "patch", "delete")


@dataclass(frozen=True)
class Permission:
    group: str
    resource: str
    verbs: tuple[str, ...]
    why: str
    required: bool = True


PERMISSIONS = (
    Permission("", "namespaces", _MANAGE, "one namespace per customer"),
    Permission("", "resourcequotas", _MANAGE, "the customer's quota"),
    Permission("", "limitranges", _MANAGE, "container defaults under the quota"),
    Permission("", "secrets", _MANAGE, "generated passwords and keys"),
    Permission("", "persistentvolumeclaims", _MANAGE, "app data volumes"),
    Permission("", "services", _MANAGE, "app and pause-page Services"),
    Permission("apps", "deployments", _MANAGE, "the apps"),
    Permission("apps", "statefulsets", _MANAGE, "the apps' databases"),
    Permission("networking.k8s.io", "ingresses", _MANAGE, "the apps' URLs"),
    Permission("networking.k8s.io", "networkpolicies", _MANAGE, "tenant isolation"),
    Permission("", "pods", ("get", "list"), "readiness and failure reasons"),
    Permission("", "pods/log", ("get",), "app logs for owners and operators"),
    Permission("", "events", ("list",), "failure reasons the pods do not carry"),
    Permission("", "nodes", ("get", "list"), "worker node sync"),
    Permission("metrics.k8s.io", "pods", ("list",), "usage history (metrics-server)", required=False),
)
