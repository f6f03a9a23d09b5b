"""Shared helpers of the renderer tests: stand-in plans, a render shortcut and semantic checks
that the OpenAPI schemas do not make (names, labels, selectors, quantities, Pod Security)."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace
from typing import Any

from templates.naming import DNS_1035_LABEL_RE, DNS_LABEL_RE
from templates.renderer import render_manifests
from templates.secrets import secrets_generate_missing

INSTANCE_ID = uuid.UUID("0b5e1c2d-3f4a-4b6c-8d9e-0f1a2b3c4d5e")
USER_ID = uuid.UUID("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")
NAMESPACE = "paas-u-9a8b7c6d5e4f4a3b9c2d1e0f9a8b7c6d"

LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUANTITY_RE = re.compile(r"^[0-9]+(m|Mi|Gi)?$")
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
}


def plan(key: str, *, cpu: int = 500, memory: int = 1024, storage: int = 5, slug: str = "starter"):
    service = SimpleNamespace(slug=key, template=key)
    return SimpleNamespace(slug=slug, cpu_millicores=cpu, memory_mb=memory, storage_gb=storage, service=service)


def render(key: str, *, the_plan=None, name: str = "my app", config: Any = None, **kwargs) -> list[dict]:
    the_plan = the_plan or plan(key)
    kwargs.setdefault("secrets", secrets_generate_missing(template_key=the_plan.service.template))
    return render_manifests(
        service=the_plan.service,
        plan=the_plan,
        instance_name=name,
        namespace=kwargs.pop("namespace", NAMESPACE),
        config=config,
        instance_id=kwargs.pop("instance_id", INSTANCE_ID),
        user_id=kwargs.pop("user_id", USER_ID),
        **kwargs,
    )


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str) -> dict:
    [doc] = by_kind(docs, kind)
    return doc


def pod_specs(docs: list[dict]) -> list[dict]:
    return [d["spec"]["template"]["spec"] for d in docs if d["kind"] in {"Deployment", "StatefulSet"}]


def containers(docs: list[dict]) -> list[dict]:
    return [c for spec in pod_specs(docs) for c in spec["containers"]]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container["env"]}


def shape(obj: Any) -> Any:
    """The structure of a manifest with every string leaf replaced by its role: keys and nesting
    must never depend on customer input, only leaf string values may."""
    if isinstance(obj, dict):
        return {k: shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shape(v) for v in obj]
    return type(obj).__name__


def check_semantics(docs: list[dict]) -> None:
    """What a real API server or admission would reject and the OpenAPI schema does not catch."""
    names = set()
    for doc in docs:
        meta = doc["metadata"]
        name = meta["name"]
        assert len(name) <= 63 and DNS_LABEL_RE.match(name), name
        if doc["kind"] == "Service":
            assert DNS_1035_LABEL_RE.match(name), name
        if doc["kind"] == "StatefulSet":
            assert len(name) <= 52, name  # room for the controller-revision-hash label
        assert (doc["kind"], name) not in names, f"duplicate {doc['kind']} {name}"
        names.add((doc["kind"], name))
        if doc["kind"] != "Namespace":
            assert meta["namespace"] == NAMESPACE or DNS_LABEL_RE.match(meta["namespace"])
        for key, value in meta.get("labels", {}).items():
            assert len(value) <= 63 and LABEL_VALUE_RE.match(value), (key, value)
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "paas"
        if doc["kind"] in {"Deployment", "StatefulSet"}:
            selector = doc["spec"]["selector"]["matchLabels"]
            template_labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= template_labels.items(), "selector must match the pod labels"
            assert "app.kubernetes.io/version" not in selector, "selectors are immutable: no version"
        if doc["kind"] == "Service" and "selector" in doc["spec"]:
            owners = [
                d
                for d in docs
                if d["kind"] in {"Deployment", "StatefulSet"}
                and doc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
            ]
            assert len(owners) == 1, f"Service {name} must select exactly one workload"
    services = {d["metadata"]["name"]: d for d in by_kind(docs, "Service")}
    for ingress in by_kind(docs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for route in rule["http"]["paths"]:
                backend = route["backend"]["service"]
                assert backend["name"] in services, f"Ingress routes to a missing Service {backend['name']}"
                ports = services[backend["name"]]["spec"]["ports"]
                assert any(
                    p["name"] == backend["port"].get("name") or p["port"] == backend["port"].get("number")
                    for p in ports
                )
    for container in containers(docs):
        for section in ("requests", "limits"):
            for quantity in container["resources"][section].values():
                assert QUANTITY_RE.match(quantity), quantity
        for port in container["ports"]:
            assert len(port["name"]) <= 15
    for doc in by_kind(docs, "ResourceQuota"):
        for quantity in doc["spec"]["hard"].values():
            assert QUANTITY_RE.match(quantity), quantity


def check_restricted(docs: list[dict]) -> None:
    """Pod Security Standard "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/)."""
    allowed_volumes = {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
    for spec in pod_specs(docs):
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True
        assert pod_sc["runAsUser"] != 0
        assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert {s["name"] for s in pod_sc.get("sysctls", [])} <= SAFE_SYSCTLS
        assert spec["automountServiceAccountToken"] is False
        assert spec["enableServiceLinks"] is False
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= allowed_volumes, volume
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert not sc["capabilities"].get("add")
            assert not sc.get("privileged")
            assert sc.get("runAsUser", pod_sc["runAsUser"]) != 0
