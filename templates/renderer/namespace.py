"""The customer's namespace: Pod Security labels, the quota and limits sized from all their live
plans, and the namespace-wide NetworkPolicies (deny by default, DNS, the ACME solver)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings

from ..naming import as_uuid
from ..registry import get_blueprint
from ..resources import SOLVER_CPU_LIMIT_M, SOLVER_CPU_REQUEST_M, SOLVER_MEMORY_MI, namespace_quota
from ..types import PlanLike
from .labels import LABEL_USER_ID, MANAGED_BY, check_namespace

PSA_VERSION = "latest"


def _namespace_labels(user_id: uuid.UUID) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": MANAGED_BY, LABEL_USER_ID: str(user_id)}


def render_namespace(
    *,
    namespace: str,
    user_id: uuid.UUID | str,
    plans: Sequence[PlanLike],
    retained_plans: Sequence[PlanLike] = (),
    min_storage_gi: int = 0,
    min_claims: int = 0,
) -> list[dict]:
    """Namespace, quota, limits and namespace-wide network policies for a customer's plans.

    ``plans`` are those of the instances that run (or may run again: stopped ones keep their
    room), ``retained_plans`` those of deleted instances whose volumes are still kept; the
    ``min_*`` floors are what existing volumes already hold (see ``namespace_quota``).
    """
    check_namespace(namespace)
    user_id = as_uuid(user_id)
    labels = _namespace_labels(user_id)
    # The namespace enforces the lowest level any of its apps needs (all are restricted today).
    levels = {get_blueprint(p.service.template).security.level for p in plans}
    enforce = "baseline" if "baseline" in levels else "restricted"
    ingress_ns = settings.PAAS_INGRESS_NAMESPACE

    def meta(name: str) -> dict:
        return {"name": name, "namespace": namespace, "labels": dict(labels)}

    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {
                    **labels,
                    "pod-security.kubernetes.io/enforce": enforce,
                    "pod-security.kubernetes.io/enforce-version": PSA_VERSION,
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/warn-version": PSA_VERSION,
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/audit-version": PSA_VERSION,
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": meta("paas-quota"),
            "spec": {
                "hard": namespace_quota(
                    plans, retained=retained_plans, min_storage_gi=min_storage_gi, min_claims=min_claims
                )
            },
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": meta("paas-limits"),
            "spec": {
                # Under a quota every container must declare resources: these defaults cover
                # containers we do not render (cert-manager's solver sets its own, equal ones).
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": f"{SOLVER_CPU_LIMIT_M}m", "memory": f"{SOLVER_MEMORY_MI}Mi"},
                        "defaultRequest": {"cpu": f"{SOLVER_CPU_REQUEST_M}m", "memory": f"{SOLVER_MEMORY_MI}Mi"},
                    }
                ]
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("default-deny"),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-dns"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-acme-solver"),
            "spec": {
                # The ingress controller must reach cert-manager's HTTP-01 solver pods.
                "podSelector": {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ingress_ns}}}]}
                ],
            },
        },
    ]
