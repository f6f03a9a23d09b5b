"""How traffic reaches an instance and leaves it: its NetworkPolicies, its Ingress, and the
ExternalName Service that routes a stopped app's host to the platform's pause page."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .context import InstanceContext

# Egress the apps need (webhooks and APIs, SMTP, updates), never to cluster or metadata ranges.
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10", "::1/128"]
EGRESS_PORTS = (80, 443, 465, 587)


def _network_policy(inst: InstanceContext, name: str, component: str, direction: str, rules: list[dict]) -> dict:
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


def network_policies(inst: InstanceContext) -> list[dict]:
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


def paused_service(inst: InstanceContext) -> dict:
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


def ingress(inst: InstanceContext) -> dict:
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
