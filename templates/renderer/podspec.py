"""The parts every pod of an instance shares: env (values and Secret references), probes, the
restricted security context, and the storage class of its volumes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from ..types import EnvVar, Probe, SecretRef
from .context import InstanceContext


def secret_name(inst: InstanceContext, group: str) -> str:
    return inst.name(group)


def env_vars(inst: InstanceContext, env: list[EnvVar]) -> list[dict]:
    rendered = []
    for var in env:
        if isinstance(var.value, SecretRef):
            ref = {"name": secret_name(inst, var.value.group), "key": var.value.key}
            rendered.append({"name": var.name, "valueFrom": {"secretKeyRef": ref}})
        else:
            rendered.append({"name": var.name, "value": str(var.value)})
    return rendered


def probe_spec(probe: Probe, *, port: int | str, fqdn: str) -> dict:
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


def pod_security(run_as_user: int, run_as_group: int, fs_group: int, sysctls: Mapping[str, str]) -> dict:
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


def pod_spec_common() -> dict:
    return {
        # None of the apps calls the Kubernetes API.
        "automountServiceAccountToken": False,
        # Service env vars (N8N_PORT=tcp://...) crash n8n and leak neighbours' addresses to all.
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 30,
    }


def storage_class() -> dict:
    cls = settings.PAAS_STORAGE_CLASS
    return {"storageClassName": cls} if cls else {}
