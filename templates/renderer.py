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
"""

from __future__ import annotations

import base64
import copy
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .config import config_validate
from .exceptions import MissingSecrets
from .naming import as_uuid, instance_base_name, is_dns_label, is_dns_subdomain
from .registry import get_blueprint
from .resources import (
    SOLVER_CPU_LIMIT_M,
    SOLVER_CPU_REQUEST_M,
    SOLVER_MEMORY_MI,
    Allocation,
    namespace_quota,
    plan_allocation,
)
from .types import Blueprint, DatabaseSpec, EnvVar, PlanLike, Probe, RenderContext, SecretRef, ServiceLike

MANAGED_BY = "paas"
LABEL_INSTANCE_ID = "paas/instance-id"
LABEL_USER_ID = "paas/user-id"
ANNOTATION_DISPLAY_NAME = "paas/display-name"

# Egress the apps need (webhooks and APIs, SMTP, updates), never to cluster or metadata ranges.
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10", "::1/128"]
EGRESS_PORTS = (80, 443, 465, 587)

PSA_VERSION = "latest"


# --- Namespace ---------------------------------------------------------------------------------


def _namespace_labels(user_id: uuid.UUID) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": MANAGED_BY, LABEL_USER_ID: str(user_id)}


def _check_namespace(namespace: str) -> None:
    if not is_dns_label(namespace):
        raise ValueError(f"namespace {namespace!r} is not a DNS-1123 label")


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
    _check_namespace(namespace)
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


# --- Instance ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Instance:
    blueprint: Blueprint
    namespace: str
    base: str
    fqdn: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    allocation: Allocation
    # 1 while the app runs; 0 when it is stopped (volumes and Secrets stay, pods go).
    replicas: int

    def name(self, suffix: str) -> str:
        return f"{self.base}-{suffix}"

    def selector(self, component: str) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": self.blueprint.key,
            "app.kubernetes.io/instance": self.base,
            "app.kubernetes.io/component": component,
        }

    def meta(self, name: str, component: str | None = None) -> dict:
        labels = dict(self.labels)
        if component:
            labels["app.kubernetes.io/component"] = component
        return {"name": name, "namespace": self.namespace, "labels": labels, "annotations": dict(self.annotations)}


def _label_value(value: str) -> str:
    # Label values: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends.
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-" for ch in value)[:63]
    return cleaned.strip("._-")


def _printable(text: str) -> str:
    return "".join(" " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in text)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def _secret_name(inst: _Instance, group: str) -> str:
    return inst.name(group)


def _env(inst: _Instance, env: list[EnvVar]) -> list[dict]:
    rendered = []
    for var in env:
        if isinstance(var.value, SecretRef):
            ref = {"name": _secret_name(inst, var.value.group), "key": var.value.key}
            rendered.append({"name": var.name, "valueFrom": {"secretKeyRef": ref}})
        else:
            rendered.append({"name": var.name, "value": str(var.value)})
    return rendered


def _probe(probe: Probe, *, port: int | str, fqdn: str) -> dict:
    if probe.kind == "http":
        action: dict[str, Any] = {"httpGet": {"path": probe.path, "port": port, "scheme": "HTTP"}}
        if probe.proxied:
            action["httpGet"]["httpHeaders"] = [
                {"name": "Host", "value": fqdn},
                {"name": "X-Forwarded-Proto", "value": "https"},
            ]
    elif probe.kind == "tcp":
        action = {"tcpSocket": {"port": port}}
    else:
        action = {"exec": {"command": list(probe.command)}}
    return {
        **action,
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def _pod_security(run_as_user: int, run_as_group: int, fs_group: int, sysctls: Mapping[str, str]) -> dict:
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": run_as_user,
        "runAsGroup": run_as_group,
        "fsGroup": fs_group,
        # Re-chowning a large volume on every start is slow; only do it when the root differs.
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if sysctls:
        context["sysctls"] = [{"name": k, "value": v} for k, v in sorted(sysctls.items())]
    return context


CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    # The images write outside their volumes at start (n8n ~/.n8n and /tmp, Ghost and WordPress
    # entrypoints copy files), so the root filesystem stays writable.
    "readOnlyRootFilesystem": False,
}


def _pod_spec_common() -> dict:
    return {
        # None of the apps calls the Kubernetes API.
        "automountServiceAccountToken": False,
        # Service env vars (N8N_PORT=tcp://...) crash n8n and leak neighbours' addresses to all.
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 30,
    }


def _storage_class() -> dict:
    cls = settings.PAAS_STORAGE_CLASS
    return {"storageClassName": cls} if cls else {}


def _app_manifests(inst: _Instance, *, config: Mapping[str, Any], database_host: str | None) -> list[dict]:
    bp = inst.blueprint
    res = inst.allocation.app
    ctx = RenderContext(base_name=inst.base, fqdn=inst.fqdn, config=config, database_host=database_host)
    pvc_name = inst.name("data")
    web = inst.name("web")
    sec = bp.security
    container: dict[str, Any] = {
        "name": bp.key,
        "image": bp.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": bp.port, "protocol": "TCP"}],
        "env": _env(inst, bp.env(ctx)),
        "resources": res.as_k8s(),
        "startupProbe": _probe(bp.probes.startup, port="http", fqdn=inst.fqdn),
        "readinessProbe": _probe(bp.probes.readiness, port="http", fqdn=inst.fqdn),
        "livenessProbe": _probe(bp.probes.liveness, port="http", fqdn=inst.fqdn),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [
            {"name": "data", "mountPath": m.mount_path, **({"subPath": m.sub_path} if m.sub_path else {})}
            for m in bp.data_mounts
        ],
    }
    if bp.args:
        container["args"] = list(bp.args)
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": inst.meta(pvc_name, "web"),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{res.storage}Mi"}},
                **_storage_class(),
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": inst.meta(web, "web"),
            "spec": {
                "type": "ClusterIP",
                "selector": inst.selector("web"),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": inst.meta(web, "web"),
            "spec": {
                "replicas": inst.replicas,
                # One replica on a ReadWriteOnce volume: stop the old pod before starting the new
                # one (no Multi-Attach error, no surge room needed in the quota).
                "strategy": {"type": "Recreate"},
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": inst.selector("web")},
                "template": {
                    "metadata": {"labels": {**inst.labels, "app.kubernetes.io/component": "web"}},
                    "spec": {
                        **_pod_spec_common(),
                        "securityContext": _pod_security(sec.run_as_user, sec.run_as_group, sec.fs_group, sec.sysctls),
                        "containers": [container],
                        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": pvc_name}}],
                    },
                },
            },
        },
    ]


MYSQL_DATA = "/var/lib/mysql"


def _mysql_manifests(inst: _Instance, db: DatabaseSpec) -> list[dict]:
    res = inst.allocation.database
    assert res is not None
    name = inst.name("db")
    ping = Probe(
        "exec",
        # Over TCP, so the entrypoint's temporary socket-only server during first init does not
        # count as up; mysqladmin ping succeeds without credentials ("access denied" = alive).
        command=("mysqladmin", "ping", "--host=127.0.0.1", "--silent"),
        period_seconds=10,
        timeout_seconds=5,
        failure_threshold=3,
    )
    startup = Probe("exec", command=ping.command, period_seconds=10, timeout_seconds=5, failure_threshold=60)
    liveness = Probe("tcp", period_seconds=20, failure_threshold=6)
    # A quarter of the container's memory, at least 32 MiB; performance_schema off saves more.
    buffer_pool = max(32, res.memory_limit // 4)
    container = {
        "name": "mysql",
        "image": db.image,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            # A subdirectory: a fresh volume's lost+found makes MySQL refuse to initialise its root.
            f"--datadir={MYSQL_DATA}/data",
            f"--innodb-buffer-pool-size={buffer_pool}M",
            "--performance-schema=OFF",
            "--skip-name-resolve",
        ],
        "ports": [{"name": "mysql", "containerPort": db.port, "protocol": "TCP"}],
        "env": _env(
            inst,
            [
                EnvVar("MYSQL_ROOT_PASSWORD", SecretRef("db", "db-root-password")),
                EnvVar("MYSQL_DATABASE", db.name),
                EnvVar("MYSQL_USER", db.user),
                EnvVar("MYSQL_PASSWORD", SecretRef("db", "db-password")),
            ],
        ),
        "resources": res.as_k8s(),
        "startupProbe": _probe(startup, port="mysql", fqdn=inst.fqdn),
        "readinessProbe": _probe(ping, port="mysql", fqdn=inst.fqdn),
        "livenessProbe": _probe(liveness, port="mysql", fqdn=inst.fqdn),
        "securityContext": dict(CONTAINER_SECURITY),
        "volumeMounts": [{"name": "data", "mountPath": MYSQL_DATA}],
    }
    db_labels = {**inst.labels, "app.kubernetes.io/component": "database"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": inst.meta(name, "database"),
            "spec": {
                # Headless: the StatefulSet's governing Service; the app connects to its pod directly.
                "clusterIP": "None",
                "selector": inst.selector("database"),
                "ports": [{"name": "mysql", "port": db.port, "targetPort": "mysql", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": inst.meta(name, "database"),
            "spec": {
                "serviceName": name,
                "replicas": inst.replicas,
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": inst.selector("database")},
                "template": {
                    "metadata": {"labels": db_labels},
                    "spec": {
                        **_pod_spec_common(),
                        "securityContext": _pod_security(db.uid, db.uid, db.uid, {}),
                        "containers": [container],
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data", "labels": db_labels},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{res.storage}Mi"}},
                            **_storage_class(),
                        },
                    }
                ],
            },
        },
    ]


def _network_policy(inst: _Instance, name: str, component: str, direction: str, rules: list[dict]) -> dict:
    """One instance NetworkPolicy selecting the pods of ``component``; ``direction`` is Ingress or Egress."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": inst.meta(inst.name(name), component),
        "spec": {
            "podSelector": {"matchLabels": inst.selector(component)},
            "policyTypes": [direction],
            direction.lower(): rules,
        },
    }


def _network_policies(inst: _Instance) -> list[dict]:
    bp = inst.blueprint
    ingress_ns = settings.PAAS_INGRESS_NAMESPACE
    web_egress: list[dict] = [
        {
            "to": [
                {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}},
                {"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}},
            ],
            "ports": [{"protocol": "TCP", "port": port} for port in EGRESS_PORTS],
        }
    ]
    from_ingress_controller = {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ingress_ns}}}],
        "ports": [{"protocol": "TCP", "port": bp.port}],
    }
    policies = [_network_policy(inst, "allow-ingress", "web", "Ingress", [from_ingress_controller])]
    if bp.database is not None:
        db_port = [{"protocol": "TCP", "port": bp.database.port}]
        web_egress.append({"to": [{"podSelector": {"matchLabels": inst.selector("database")}}], "ports": db_port})
        # Only this instance's app: a neighbour subscription in the namespace cannot.
        from_web = {"from": [{"podSelector": {"matchLabels": inst.selector("web")}}], "ports": db_port}
        policies.append(_network_policy(inst, "allow-web-to-db", "database", "Ingress", [from_web]))
    policies.append(_network_policy(inst, "allow-egress", "web", "Egress", web_egress))
    return policies


def _secrets(inst: _Instance, values: Mapping[str, str]) -> list[dict]:
    bp = inst.blueprint
    missing = [s.key for s in bp.secret_keys if not isinstance(values.get(s.key), str) or not values.get(s.key)]
    if missing:
        raise MissingSecrets(missing)
    manifests = []
    for group in ("app", "db"):
        keys = [s.key for s in bp.secret_keys if s.group == group]
        if not keys:
            continue
        secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": inst.meta(_secret_name(inst, group), "web" if group == "app" else "database"),
            "type": "Opaque",
            # `data`, not `stringData`: the server stores `data`, so a later diff sees no change.
            "data": {key: _b64(values[key]) for key in keys},
        }
        if group == "app" and bp.immutable_app_secret:
            secret["immutable"] = True
        manifests.append(secret)
    return manifests


def _paused_service(inst: _Instance) -> dict:
    """An ExternalName Service for the platform's own web Service, which answers every request
    for a stopped app's host with a "this app is paused" page. The Ingress points here while the
    app is stopped, so its URL never answers 502 and needs no pod in the customer's namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": inst.meta(inst.name("paused"), "web"),
        "spec": {
            "type": "ExternalName",
            "externalName": settings.PAAS_PAUSE_SERVICE_HOST,
            "ports": [
                {"name": "http", "port": settings.PAAS_PAUSE_SERVICE_PORT, "protocol": "TCP"},
            ],
        },
    }


def _ingress(inst: _Instance) -> dict:
    # The app's Service while it runs; the platform's pause page while it is stopped.
    if inst.replicas:
        backend = {"service": {"name": inst.name("web"), "port": {"name": "http"}}}
    else:
        backend = {"service": {"name": inst.name("paused"), "port": {"number": settings.PAAS_PAUSE_SERVICE_PORT}}}
    spec: dict[str, Any] = {
        "tls": [{"hosts": [inst.fqdn], "secretName": inst.name("tls")}],
        "rules": [
            {
                "host": inst.fqdn,
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
            }
        ],
    }
    if settings.PAAS_INGRESS_CLASS:
        spec = {"ingressClassName": settings.PAAS_INGRESS_CLASS, **spec}
    meta = inst.meta(inst.base, "web")
    meta["annotations"]["cert-manager.io/cluster-issuer"] = settings.PAAS_CLUSTER_ISSUER
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


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
    _check_namespace(namespace)
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
        "app.kubernetes.io/version": _label_value(blueprint.app_version),
        "app.kubernetes.io/part-of": _label_value(service.slug) or blueprint.key,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        LABEL_INSTANCE_ID: str(instance_uuid),
        LABEL_USER_ID: str(user_uuid),
    }
    # The name as typed is kept for people reading the cluster, minus control characters and line
    # breaks (U+0085 and friends do not survive a YAML round trip, and mislead in a terminal).
    annotations = {ANNOTATION_DISPLAY_NAME: _printable(str(instance_name))[:200]}
    inst = _Instance(
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

    manifests = [*_network_policies(inst), *_secrets(inst, secrets)]
    app = _app_manifests(inst, config=normalized, database_host=database_host)
    pvc, web_service, deployment = app
    manifests += [pvc, web_service, _paused_service(inst)]
    if blueprint.database is not None:
        manifests += _mysql_manifests(inst, blueprint.database)
    manifests += [deployment, _ingress(inst)]
    # Independent documents: no dict shared between two places (nor YAML aliases when dumped).
    return copy.deepcopy(manifests)


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
