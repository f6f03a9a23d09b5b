"""Turn (service, plan, instance, config, secrets) into the complete list of Kubernetes manifests.

Manifests are plain dicts built in code, never text templates: customer input can only ever be
a string *value* (an env value, an annotation), so no name, quote, newline, ``{{`` or YAML
construct in it can change the structure of what is applied. Names come from ``naming``.

Two parts:
- ``render_namespace``: the customer's namespace with Pod Security labels, the ResourceQuota and
  LimitRange sized from *all* their live plans, and the namespace-wide NetworkPolicies;
- ``render_instance``: one subscription's Secrets, volumes, workloads, Services, NetworkPolicies
  and Ingress, all named ``<instance>-<short id>-...`` so several share one namespace.
``render_manifests`` returns both, in apply order.

Modules: ``namespace`` (the namespace's objects), ``instance`` (one instance's, in apply order)
built from ``context`` (what an instance is rendered from), ``workloads`` (the app and its
database), ``podspec`` (env, probes, security contexts), ``network`` (NetworkPolicies, Ingress,
the pause page's Service), ``secret_objects`` (Secrets) and ``labels``. Import from the package.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..resources import namespace_quota, plan_allocation
from ..types import PlanLike, ServiceLike
from .instance import render_instance
from .labels import ANNOTATION_DISPLAY_NAME, LABEL_INSTANCE_ID, LABEL_USER_ID, MANAGED_BY
from .namespace import render_namespace

__all__ = [
    "ANNOTATION_DISPLAY_NAME",
    "LABEL_INSTANCE_ID",
    "LABEL_USER_ID",
    "MANAGED_BY",
    "namespace_quota",
    "plan_allocation",
    "render_instance",
    "render_manifests",
    "render_namespace",
]


def render_manifests(
    *,
    service: ServiceLike,
    plan: PlanLike,
    instance_name: str,
    namespace: str,
    config: Mapping[str, Any] | None,
    instance_id: uuid.UUID | str,
    user_id: uuid.UUID | str,
    secrets: Mapping[str, str],
    base_domain: str | None = None,
    namespace_plans: Sequence[PlanLike] | None = None,
    retained_plans: Sequence[PlanLike] = (),
    running: bool = True,
) -> list[dict]:
    """Every manifest one instance needs, namespace-level objects first, in apply order.

    ``config`` is the customer's raw config (validated here; ``ValidationError`` when invalid).
    ``secrets`` must hold every key of the blueprint: get them from ``secrets_generate_missing``.
    ``namespace_plans`` are the plans of all live subscriptions in the namespace, this one
    included, and size the quota; by default just ``plan``.
    ``retained_plans`` are those of deleted instances whose volumes are still kept.
    ``base_domain`` defaults to ``settings.PAAS_APPS_DOMAIN``. ``running=False`` renders the
    instance stopped: no pods, volumes and Secrets kept, its host routed to the pause page.
    """
    plans = list(namespace_plans) if namespace_plans is not None else [plan]
    return [
        *render_namespace(namespace=namespace, user_id=user_id, plans=plans, retained_plans=retained_plans),
        *render_instance(
            service=service,
            plan=plan,
            instance_name=instance_name,
            namespace=namespace,
            config=config,
            instance_id=instance_id,
            user_id=user_id,
            secrets=secrets,
            base_domain=base_domain,
            running=running,
        ),
    ]
