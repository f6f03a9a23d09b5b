"""One instance's own objects, in apply order (no namespace-level objects)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from ..config import config_validate
from ..naming import as_uuid, instance_base_name, is_dns_subdomain
from ..registry import get_blueprint
from ..resources import plan_allocation
from ..types import PlanLike, ServiceLike
from .context import InstanceContext
from .labels import (
    ANNOTATION_DISPLAY_NAME,
    LABEL_INSTANCE_ID,
    LABEL_USER_ID,
    MANAGED_BY,
    check_namespace,
    label_value,
    printable,
)
from .network import ingress, network_policies, paused_service
from .secret_objects import secret_manifests
from .workloads import app_manifests, mysql_manifests


def render_instance(
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
    running: bool = True,
) -> list[dict]:
    """The manifests of one instance (no namespace-level objects). See ``render_manifests``."""
    blueprint = get_blueprint(service.template)
    if plan.service.template != service.template:
        raise ValueError("the plan belongs to another service")
    check_namespace(namespace)
    domain = (base_domain or settings.PAAS_APPS_DOMAIN).lower().rstrip(".")
    if not is_dns_subdomain(domain):
        raise ValueError(f"base domain {domain!r} is not a DNS name")
    normalized = config_validate(template_key=blueprint.key, config=config)
    instance_uuid, user_uuid = as_uuid(instance_id), as_uuid(user_id)
    base = instance_base_name(instance_name=instance_name, instance_id=instance_uuid, fallback=blueprint.key)
    fqdn = f"{base}.{domain}"
    if len(fqdn) > 253:
        raise ValueError("host name too long for the base domain")
    labels = {
        "app.kubernetes.io/name": blueprint.key,
        "app.kubernetes.io/instance": base,
        "app.kubernetes.io/version": label_value(blueprint.app_version),
        "app.kubernetes.io/part-of": label_value(service.slug) or blueprint.key,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        LABEL_INSTANCE_ID: str(instance_uuid),
        LABEL_USER_ID: str(user_uuid),
    }
    # The name as typed is kept for people reading the cluster, minus control characters and line
    # breaks (U+0085 and friends do not survive a YAML round trip, and mislead in a terminal).
    annotations = {ANNOTATION_DISPLAY_NAME: printable(str(instance_name))[:200]}
    inst = InstanceContext(
        blueprint=blueprint,
        namespace=namespace,
        base=base,
        fqdn=fqdn,
        labels=labels,
        annotations=annotations,
        allocation=plan_allocation(plan),
        replicas=1 if running else 0,
    )
    database_host = inst.name("db") if blueprint.database else None

    manifests = [*network_policies(inst), *secret_manifests(inst, secrets)]
    app = app_manifests(inst, config=normalized, database_host=database_host)
    pvc, web_service, deployment = app
    manifests += [pvc, web_service, paused_service(inst)]
    if blueprint.database is not None:
        manifests += mysql_manifests(inst, blueprint.database)
    manifests += [deployment, ingress(inst)]
    # Independent documents: no dict shared between two places (nor YAML aliases when dumped).
    return copy.deepcopy(manifests)
