"""What the cluster should hold for an instance: the manifests the templates render for it.

Namespace-level objects (the namespace, its quota and limits, its shared network policies) are
sized from every instance of the owner in that namespace, so each instance's reconcile brings
them up to date; instance-level objects follow the instance's plan, config and desired state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from paas import crypto
from pods.models import ServiceInstance
from pods.quantity import QuantityError, parse_quantity
from templates.registry import get_blueprint
from templates.renderer import render_instance, render_namespace
from templates.resources import plan_allocation
from templates.secrets import secrets_generate_missing

from .observe import Observed, instance_label

SECRETS_PURPOSE = "pods.instance-secrets"
# Stands for every secret value when manifests are rendered only to be compared: Secrets are
# never compared (an existing one is never rewritten), so the sweep need not unseal anything.
PLACEHOLDER = "unsealed-only-to-write"

DesiredState = ServiceInstance.DesiredState


def secrets_seal(values: dict[str, str]) -> str:
    return crypto.seal(json.dumps(values, sort_keys=True), purpose=SECRETS_PURPOSE)


def secrets_new(*, template_key: str) -> str:
    """Freshly generated secrets for a new instance of ``template_key``, sealed for the database."""
    return secrets_seal(secrets_generate_missing(template_key=template_key))


def instance_secrets(instance: ServiceInstance) -> dict[str, str]:
    """The instance's secrets in clear (for rendering only). Keys its blueprint gained since they
    were made are generated once and stored, so every render agrees on them."""
    stored = json.loads(crypto.unseal(instance.secrets_sealed, purpose=SECRETS_PURPOSE))
    complete = secrets_generate_missing(template_key=instance.service.template, existing=stored)
    if complete.keys() != stored.keys():
        instance.secrets_sealed = secrets_seal(complete)
        ServiceInstance.objects.filter(pk=instance.pk).update(secrets_sealed=instance.secrets_sealed)
    return complete


@dataclass(frozen=True)
class Desired:
    namespace_objects: list[dict]
    instance_objects: list[dict]

    @property
    def manifests(self) -> list[dict]:
        return [*self.namespace_objects, *self.instance_objects]


def namespace_neighbours(instance: ServiceInstance) -> list[ServiceInstance]:
    """Every instance with objects in ``instance``'s namespace (itself included), with plans."""
    return list(ServiceInstance.objects.live().filter(namespace=instance.namespace).select_related("plan__service"))


def _claimed(observed: Observed | None) -> dict[str, tuple[int, int]]:
    """Per instance id: (GiB its volumes request, how many there are), as the cluster has them."""
    held: dict[str, list[int]] = {}
    for (kind, _), claim in observed.objects.items() if observed else ():
        if kind != "PersistentVolumeClaim":
            continue
        try:
            size = parse_quantity(claim["spec"]["resources"]["requests"]["storage"])
        except (KeyError, QuantityError):
            continue
        totals = held.setdefault(instance_label(claim), [0, 0])
        totals[0] += int(size)
        totals[1] += 1
    return {label: (math.ceil(size / 2**30), count) for label, (size, count) in held.items()}


def namespace_manifests(
    instance: ServiceInstance, neighbours: Iterable[ServiceInstance], observed: Observed | None = None
) -> list[dict]:
    live, retained = [], []
    storage_gi = claims = 0
    claimed = _claimed(observed)
    for other in neighbours:
        (retained if other.desired_state == DesiredState.DELETED else live).append(other.plan)
        held_gi, held_claims = claimed.get(str(other.pk), (0, 0))
        storage_gi += max(other.plan.storage_gb, held_gi)
        claims += max(len(plan_allocation(other.plan).containers), held_claims)
    return render_namespace(
        namespace=instance.namespace,
        user_id=instance.owner_id,
        plans=live,
        retained_plans=retained,
        min_storage_gi=storage_gi,
        min_claims=claims,
    )


def _render(instance: ServiceInstance, *, running: bool, secrets: dict[str, str] | None = None) -> list[dict]:
    return render_instance(
        service=instance.service,
        plan=instance.plan,
        instance_name=instance.name,
        namespace=instance.namespace,
        config=instance.config,
        instance_id=instance.pk,
        user_id=instance.owner_id,
        secrets=secrets if secrets is not None else instance_secrets(instance),
        running=running,
    )


def instance_manifests(instance: ServiceInstance, *, secrets: dict[str, str] | None = None) -> list[dict]:
    """The instance's own objects; none for a deleted instance (its volumes are kept aside)."""
    if instance.desired_state == DesiredState.DELETED:
        return []
    return _render(instance, running=instance.desired_state == DesiredState.RUNNING, secrets=secrets)


def instance_manifests_for_comparison(instance: ServiceInstance) -> list[dict]:
    """The instance's own objects with placeholder secrets: enough to tell whether anything
    differs (Secrets are never compared), without unsealing a thing."""
    return instance_manifests(instance, secrets=_placeholders(instance))


def desired_for(
    instance: ServiceInstance,
    neighbours: Iterable[ServiceInstance] | None = None,
    *,
    observed: Observed | None = None,
) -> Desired:
    """Everything ``instance`` needs, ready to apply. ``observed`` (what the namespace holds) keeps
    the quota at least as large as the volumes already there."""
    neighbours = namespace_neighbours(instance) if neighbours is None else neighbours
    return Desired(
        namespace_objects=namespace_manifests(instance, neighbours, observed),
        instance_objects=instance_manifests(instance),
    )


def _placeholders(instance: ServiceInstance) -> dict[str, str]:
    return dict.fromkeys((s.key for s in get_blueprint(instance.service.template).secret_keys), PLACEHOLDER)


def host_for(instance: ServiceInstance) -> str:
    """The public host name the templates give this instance (its Ingress host)."""
    rendered = _render(instance, running=True, secrets=_placeholders(instance))
    ingress = next(doc for doc in rendered if doc["kind"] == "Ingress")
    return ingress["spec"]["rules"][0]["host"]
