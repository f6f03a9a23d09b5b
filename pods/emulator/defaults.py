"""Server-side defaulting: the fields a real API server fills in on create and update.

Clients read objects back and compare them with what they sent; a server that did not default
(``protocol: TCP``, ``strategy``, ``restartPolicy``, ...) would make every comparison see drift
that a real cluster shows the other way round. ``apply_defaults`` mutates the object it is
given (always a fresh copy) and only ever adds missing fields.
"""

from __future__ import annotations

from typing import Any

from . import resources as r
from .resources import ResourceType


def _set(obj: dict[str, Any], key: str, value: Any) -> None:
    if obj.get(key) is None:
        obj[key] = value


def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _probe(probe: dict[str, Any] | None) -> None:
    if not probe:
        return
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        _set(probe, key, value)
    if probe.get("httpGet"):
        _set(probe["httpGet"], "scheme", "HTTP")


def _container(container: dict[str, Any], *, is_pod: bool) -> None:
    _set(container, "terminationMessagePath", "/dev/termination-log")
    _set(container, "terminationMessagePolicy", "File")
    if container.get("image"):
        _set(container, "imagePullPolicy", _image_pull_policy(container["image"]))
    for port in container.get("ports") or []:
        _set(port, "protocol", "TCP")
    resources = container.setdefault("resources", {})
    if is_pod and resources.get("limits"):
        # A pod (not a template) that sets only limits requests the same amounts.
        requests = resources.setdefault("requests", {})
        for name, value in resources["limits"].items():
            requests.setdefault(name, value)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(container.get(probe))


def pod_spec(spec: dict[str, Any], *, is_pod: bool = False) -> None:
    _set(spec, "restartPolicy", "Always")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "securityContext", {})
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or []:
            _container(container, is_pod=is_pod)


def _template(spec: dict[str, Any]) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        if isinstance(template.get("spec"), dict):
            pod_spec(template["spec"])


def _deployment(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        _set(rolling, "maxSurge", "25%")
        _set(rolling, "maxUnavailable", "25%")
    _template(spec)


def _statefulset(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _set(strategy, "rollingUpdate", {"partition": 0})
    _set(spec, "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for claim in spec.get("volumeClaimTemplates") or []:
        # apps/v1 conversion always writes the templates' TypeMeta (kubernetes issue 87583), and
        # they get a claim's defaults.
        claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
        _set(claim.setdefault("spec", {}), "volumeMode", "Filesystem")
        _set(claim.setdefault("status", {}), "phase", "Pending")
    _template(spec)


def _replicaset(obj: dict[str, Any]) -> None:
    _set(obj.setdefault("spec", {}), "replicas", 1)
    _template(obj["spec"])


def _service(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "type", "ClusterIP")
    if spec["type"] != "ExternalName":
        _set(spec, "sessionAffinity", "None")
        _set(spec, "internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        _set(port, "protocol", "TCP")
        _set(port, "targetPort", port.get("port"))


def _pvc(obj: dict[str, Any]) -> None:
    _set(obj.setdefault("spec", {}), "volumeMode", "Filesystem")
    _set(obj.setdefault("status", {}), "phase", "Pending")


def _namespace(obj: dict[str, Any]) -> None:
    meta = obj.setdefault("metadata", {})
    labels = meta.setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = meta.get("name", "")
    _set(obj.setdefault("spec", {}), "finalizers", ["kubernetes"])
    _set(obj.setdefault("status", {}), "phase", "Active")


def _secret(obj: dict[str, Any]) -> None:
    _set(obj, "type", "Opaque")


def _pod(obj: dict[str, Any]) -> None:
    pod_spec(obj.setdefault("spec", {}), is_pod=True)
    _set(obj.setdefault("status", {}), "phase", "Pending")
    _set(obj["status"], "qosClass", qos_class(obj["spec"]))


def _networkpolicy(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for rule_group in ("ingress", "egress"):
        for rule in spec.get(rule_group) or []:
            for port in rule.get("ports") or []:
                _set(port, "protocol", "TCP")


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed / Burstable / BestEffort, from the containers' requests and limits."""
    containers = spec.get("containers") or []
    if not any(
        (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") for c in containers
    ):
        return "BestEffort"
    for c in containers:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if any(limits.get(k) is None or requests.get(k, limits[k]) != limits[k] for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"


_DEFAULTERS = {
    r.DEPLOYMENTS.key: _deployment,
    r.STATEFULSETS.key: _statefulset,
    r.REPLICASETS.key: _replicaset,
    r.SERVICES.key: _service,
    r.PVCS.key: _pvc,
    r.NAMESPACES.key: _namespace,
    r.SECRETS.key: _secret,
    r.PODS.key: _pod,
    r.NETWORKPOLICIES.key: _networkpolicy,
}


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    defaulter = _DEFAULTERS.get(rt.key)
    if defaulter is not None:
        defaulter(obj)
