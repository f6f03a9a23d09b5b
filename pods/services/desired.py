"""What the cluster should hold for an instance: the manifests the templates render for it.

Namespace-level objects (the namespace, its quota and limits, its shared network policies) are
sized from every instance of the owner in that namespace, so each instance's reconcile brings
them up to date; instance-level objects follow the instance's plan, config and desired state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from paas import crypto
from pods.models import ServiceInstance
from templates.renderer import LABEL_INSTANCE_ID, MANAGED_BY, render_instance, render_namespace
from templates.secrets import secrets_generate_missing

SECRETS_PURPOSE = "pods.instance-secrets"
MANAGED = {"app.kubernetes.io/managed-by": MANAGED_BY}

DesiredState = ServiceInstance.DesiredState


def secrets_seal(values: dict[str, str]) -> str:
    return crypto.seal(json.dumps(values, sort_keys=True), purpose=SECRETS_PURPOSE)


def secrets_new(*, template_key: str) -> str:
    """Freshly generated secrets for a new instance of ``template_key``, sealed for the database."""
    return secrets_seal(secrets_generate_missing(template_key=template_key))


def instance_secrets(instance: ServiceInstance) -> dict[str, str]:
    """The instance's secrets in clear (for rendering only), completed if the blueprint gained keys."""
    stored = json.loads(crypto.unseal(instance.secrets_sealed, purpose=SECRETS_PURPOSE))
    return secrets_generate_missing(template_key=instance.service.template, existing=stored)


def instance_selector(instance: ServiceInstance) -> dict[str, str]:
    return {LABEL_INSTANCE_ID: str(instance.pk)}


@dataclass(frozen=True)
class Desired:
    namespace_objects: list[dict]
    instance_objects: list[dict]

    @property
    def manifests(self) -> list[dict]:
        return [*self.namespace_objects, *self.instance_objects]


def namespace_neighbours(instance: ServiceInstance) -> list[ServiceInstance]:
    """Every instance with objects in ``instance``'s namespace (itself included), with plans."""
    return list(
        ServiceInstance.objects.filter(namespace=instance.namespace, purged_at__isnull=True).select_related(
            "plan__service"
        )
    )


def namespace_manifests(instance: ServiceInstance, neighbours: Iterable[ServiceInstance]) -> list[dict]:
    live, retained = [], []
    for other in neighbours:
        (retained if other.desired_state == DesiredState.DELETED else live).append(other.plan)
    return render_namespace(
        namespace=instance.namespace, user_id=instance.owner_id, plans=live, retained_plans=retained
    )


def _render(instance: ServiceInstance, *, running: bool) -> list[dict]:
    return render_instance(
        service=instance.service,
        plan=instance.plan,
        instance_name=instance.name,
        namespace=instance.namespace,
        config=instance.config,
        instance_id=instance.pk,
        user_id=instance.owner_id,
        secrets=instance_secrets(instance),
        running=running,
    )


def instance_manifests(instance: ServiceInstance) -> list[dict]:
    """The instance's own objects; none for a deleted instance (its volumes are kept aside)."""
    if instance.desired_state == DesiredState.DELETED:
        return []
    return _render(instance, running=instance.desired_state == DesiredState.RUNNING)


def desired_for(instance: ServiceInstance, neighbours: Iterable[ServiceInstance] | None = None) -> Desired:
    neighbours = namespace_neighbours(instance) if neighbours is None else neighbours
    return Desired(
        namespace_objects=namespace_manifests(instance, neighbours),
        instance_objects=instance_manifests(instance),
    )


def host_for(instance: ServiceInstance) -> str:
    """The public host name the templates give this instance (its Ingress host)."""
    ingress = next(doc for doc in _render(instance, running=True) if doc["kind"] == "Ingress")
    return ingress["spec"]["rules"][0]["host"]
