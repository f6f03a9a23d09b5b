"""Validation of objects on create and update: 422 Invalid with ``details.causes``, as a real server.

Two layers:

- structural, strict: the official schema of the kind (``schema.SchemaSet``): types, required
  fields, unknown fields;
- semantic, the checks the API server's Go validators make that the schemas cannot express:
  DNS names, label syntax, quantities, workload selectors matching template labels, enums the
  schemas leave as plain strings, Secret base64, and the immutable fields checked on update.

``validate(rt, obj, old)`` raises ``errors.invalid`` listing every problem found.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pods.quantity import QUANTITY_PATTERN, QuantityError, parse_quantity

from . import resources as r
from .errors import Cause, invalid
from .resources import DNS1035, LABEL, PATH_SEGMENT, SUBDOMAIN, ResourceType
from .schema import SchemaSet
from .selectors import LabelSelector, SelectorError, label_key_error, label_value_error

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_WILDCARD_HOST = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
    "is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
_MAX_ANNOTATIONS_BYTES = 256 * 1024
_MAX_SECRET_BYTES = 1024 * 1024

_ENUMS: dict[str, tuple[str, ...]] = {
    "restartPolicy": ("Always", "OnFailure", "Never"),
    "imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "protocol": ("TCP", "UDP", "SCTP"),
    "serviceType": ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"),
    "deploymentStrategy": ("Recreate", "RollingUpdate"),
    "podManagementPolicy": ("OrderedReady", "Parallel"),
    "statefulSetStrategy": ("RollingUpdate", "OnDelete"),
    "accessMode": ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"),
    "pathType": ("Exact", "Prefix", "ImplementationSpecific"),
    "policyType": ("Ingress", "Egress"),
    "limitType": ("Container", "Pod", "PersistentVolumeClaim"),
}

# What may change in a StatefulSet spec after creation.
_STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    "revisionHistoryLimit",
)


def name_error(name: str, rule: str) -> str | None:
    """Why ``name`` breaks the kind's name ``rule`` (see ``resources``), or None."""
    if rule == PATH_SEGMENT:
        if name in (".", "..") or "/" in name or "%" in name:
            return "may not contain '/' or '%' and may not be '.' or '..'"
        return None
    if rule == SUBDOMAIN:
        if len(name) > 253:
            return "must be no more than 253 characters"
        return None if _SUBDOMAIN.match(name) else SUBDOMAIN_MESSAGE
    if len(name) > 63:
        return "must be no more than 63 characters"
    if rule == LABEL:
        return None if _LABEL.match(name) else LABEL_MESSAGE
    if rule == DNS1035:
        return None if _DNS1035.match(name) else DNS1035_MESSAGE
    return None


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else json.dumps(value, default=str)


def _bad(field: str, value: Any, why: str) -> Cause:
    return Cause(field, "FieldValueInvalid", f"Invalid value: {_value(value)}: {why}")


def _required(field: str, why: str = "") -> Cause:
    return Cause(field, "FieldValueRequired", f"Required value{': ' + why if why else ''}")


def _unsupported(field: str, value: Any, allowed: tuple[str, ...]) -> Cause:
    listing = ", ".join(f'"{v}"' for v in allowed)
    return Cause(field, "FieldValueNotSupported", f"Unsupported value: {_value(value)}: supported values: {listing}")


def _forbidden(field: str, why: str) -> Cause:
    return Cause(field, "FieldValueForbidden", f"Forbidden: {why}")


def _enum(field: str, value: Any, which: str) -> Iterator[Cause]:
    if value is not None and value not in _ENUMS[which]:
        yield _unsupported(field, value, _ENUMS[which])


def _quantity(field: str, value: Any) -> Iterator[Cause]:
    try:
        parse_quantity(value)
    except QuantityError:
        yield _bad(field, value, f"quantities must match the regular expression '{QUANTITY_PATTERN}'")


def _quantities(field: str, values: Mapping[str, Any] | None) -> Iterator[Cause]:
    for key, value in (values or {}).items():
        yield from _quantity(f"{field}[{key}]", value)


# --- metadata --------------------------------------------------------------------------------


def _metadata(rt: ResourceType, meta: Mapping[str, Any]) -> Iterator[Cause]:
    name = meta.get("name")
    if not name:
        yield _required("metadata.name", "name or generateName is required")
    else:
        why = name_error(name, rt.name_rule)
        if why:
            yield _bad("metadata.name", name, why)
    yield from _labels("metadata.labels", meta.get("labels"))
    annotations = meta.get("annotations") or {}
    for key in annotations:
        why = label_key_error(key)
        if why:
            yield _bad("metadata.annotations", key, why)
    size = sum(len(k) + len(v or "") for k, v in annotations.items())
    if size > _MAX_ANNOTATIONS_BYTES:
        yield Cause(
            "metadata.annotations", "FieldValueTooLong", f"Too long: must have at most {_MAX_ANNOTATIONS_BYTES} bytes"
        )


def _labels(field: str, labels: Mapping[str, Any] | None) -> Iterator[Cause]:
    for key, value in (labels or {}).items():
        why = label_key_error(key)
        if why:
            yield _bad(field, key, why)
        if isinstance(value, str):
            why = label_value_error(value)
            if why:
                yield _bad(f"{field}", value, why)


# --- pods and templates ----------------------------------------------------------------------


def _container(field: str, c: Mapping[str, Any], volumes: set[str]) -> Iterator[Cause]:
    name = c.get("name")
    if name:
        why = name_error(name, LABEL)
        if why:
            yield _bad(f"{field}.name", name, why)
    if not c.get("image"):
        yield _required(f"{field}.image")
    yield from _enum(f"{field}.imagePullPolicy", c.get("imagePullPolicy"), "imagePullPolicy")
    port_names: set[str] = set()
    for i, port in enumerate(c.get("ports") or []):
        pf = f"{field}.ports[{i}]"
        number = port.get("containerPort")
        if isinstance(number, int) and not 1 <= number <= 65535:
            yield _bad(f"{pf}.containerPort", number, "must be between 1 and 65535, inclusive")
        pname = port.get("name")
        if pname:
            if len(pname) > 15 or not _IANA_SVC_NAME.match(pname) or "--" in pname or not re.search("[a-z]", pname):
                yield _bad(f"{pf}.name", pname, "must be no more than 15 characters and an IANA_SVC_NAME")
            elif pname in port_names:
                yield Cause(f"{pf}.name", "FieldValueDuplicate", f"Duplicate value: {_value(pname)}")
            port_names.add(pname)
        yield from _enum(f"{pf}.protocol", port.get("protocol"), "protocol")
    resources = c.get("resources") or {}
    yield from _quantities(f"{field}.resources.limits", resources.get("limits"))
    yield from _quantities(f"{field}.resources.requests", resources.get("requests"))
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    for key in ("cpu", "memory"):
        if key in limits and key in requests:
            try:
                if parse_quantity(requests[key]) > parse_quantity(limits[key]):
                    yield _bad(
                        f"{field}.resources.requests",
                        requests[key],
                        f"must be less than or equal to {key} limit of {limits[key]}",
                    )
            except QuantityError:
                pass  # already reported above
    for i, mount in enumerate(c.get("volumeMounts") or []):
        if mount.get("name") and mount["name"] not in volumes:
            yield Cause(f"{field}.volumeMounts[{i}].name", "FieldValueNotFound", f"Not found: {_value(mount['name'])}")


def _pod_spec(field: str, spec: Mapping[str, Any] | None, claims: frozenset[str] = frozenset()) -> Iterator[Cause]:
    """A pod spec; ``claims`` are the volumes a StatefulSet's claim templates add to it."""
    if not spec:
        return
    volumes: set[str] = set(claims)
    for i, volume in enumerate(spec.get("volumes") or []):
        vname = volume.get("name", "")
        why = name_error(vname, LABEL) if vname else None
        if why:
            yield _bad(f"{field}.volumes[{i}].name", vname, why)
        if vname in volumes:
            yield Cause(f"{field}.volumes[{i}].name", "FieldValueDuplicate", f"Duplicate value: {_value(vname)}")
        volumes.add(vname)
    containers = spec.get("containers") or []
    if not containers:
        yield _required(f"{field}.containers")
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(group) or []):
            yield from _container(f"{field}.{group}[{i}]", container, volumes)
            cname = container.get("name")
            if cname in seen:
                yield Cause(f"{field}.{group}[{i}].name", "FieldValueDuplicate", f"Duplicate value: {_value(cname)}")
            seen.add(cname)
    yield from _enum(f"{field}.restartPolicy", spec.get("restartPolicy"), "restartPolicy")


def _template(field: str, spec: Mapping[str, Any], kind: str, claims: frozenset[str] = frozenset()) -> Iterator[Cause]:
    """A workload's selector and pod template: the selector must select the template's labels."""
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    yield from _labels(f"{field}.template.metadata.labels", labels)
    selector = spec.get("selector")
    if selector is not None:
        try:
            parsed = LabelSelector.from_object(selector)
        except SelectorError as exc:
            yield _bad(f"{field}.selector", selector, str(exc))
        else:
            if parsed.is_empty():
                yield _bad(f"{field}.selector", selector, f"empty selector is invalid for {kind}")
            elif not parsed.matches(labels):
                yield _bad(f"{field}.template.metadata.labels", labels, "`selector` does not match template `labels`")
        yield from _labels(f"{field}.selector.matchLabels", selector.get("matchLabels"))
    pod_spec = template.get("spec") or {}
    yield from _pod_spec(f"{field}.template.spec", pod_spec, claims)
    policy = pod_spec.get("restartPolicy")
    if policy not in (None, "Always"):
        yield _unsupported(f"{field}.template.spec.restartPolicy", policy, ("Always",))
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        yield _bad(f"{field}.replicas", replicas, "must be greater than or equal to 0")


# --- per kind -------------------------------------------------------------------------------


def _deployment(obj: Mapping[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    yield from _template("spec", spec, "deployment")
    strategy = spec.get("strategy") or {}
    yield from _enum("spec.strategy.type", strategy.get("type"), "deploymentStrategy")
    if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate") is not None:
        yield _forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")


def _replicaset(obj: Mapping[str, Any]) -> Iterator[Cause]:
    yield from _template("spec", obj.get("spec") or {}, "replicaset")


def _statefulset(obj: Mapping[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    claims = frozenset((c.get("metadata") or {}).get("name", "") for c in spec.get("volumeClaimTemplates") or [])
    yield from _template("spec", spec, "statefulset", claims)
    yield from _enum("spec.podManagementPolicy", spec.get("podManagementPolicy"), "podManagementPolicy")
    yield from _enum("spec.updateStrategy.type", (spec.get("updateStrategy") or {}).get("type"), "statefulSetStrategy")
    for i, claim in enumerate(spec.get("volumeClaimTemplates") or []):
        cname = (claim.get("metadata") or {}).get("name", "")
        why = name_error(cname, SUBDOMAIN) if cname else "name is required"
        if why:
            yield _bad(f"spec.volumeClaimTemplates[{i}].metadata.name", cname, why)
        yield from _pvc_spec(f"spec.volumeClaimTemplates[{i}].spec", claim.get("spec") or {})


def _pvc_spec(field: str, spec: Mapping[str, Any]) -> Iterator[Cause]:
    modes = spec.get("accessModes") or []
    if not modes:
        yield _required(f"{field}.accessModes")
    for mode in modes:
        yield from _enum(f"{field}.accessModes", mode, "accessMode")
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        yield _required(f"{field}.resources[storage]")
    else:
        yield from _quantity(f"{field}.resources.requests[storage]", storage)


def _pvc(obj: Mapping[str, Any]) -> Iterator[Cause]:
    yield from _pvc_spec("spec", obj.get("spec") or {})


def _pod(obj: Mapping[str, Any]) -> Iterator[Cause]:
    yield from _pod_spec("spec", obj.get("spec"))


def _service(obj: Mapping[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    stype = spec.get("type") or "ClusterIP"
    yield from _enum("spec.type", stype, "serviceType")
    ports = spec.get("ports") or []
    if stype == "ExternalName":
        if not spec.get("externalName"):
            yield _required("spec.externalName")
    elif not ports and spec.get("clusterIP") != "None":
        yield _required("spec.ports")
    names: set[str] = set()
    for i, port in enumerate(ports):
        pf = f"spec.ports[{i}]"
        number = port.get("port")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            yield _bad(f"{pf}.port", number, "must be between 1 and 65535, inclusive")
        pname = port.get("name")
        if len(ports) > 1 and not pname:
            yield _required(f"{pf}.name")
        if pname:
            why = name_error(pname, DNS1035) if len(pname) <= 63 else "must be no more than 63 characters"
            if why:
                yield _bad(f"{pf}.name", pname, why)
            if pname in names:
                yield Cause(f"{pf}.name", "FieldValueDuplicate", f"Duplicate value: {_value(pname)}")
            names.add(pname)
        yield from _enum(f"{pf}.protocol", port.get("protocol"), "protocol")
        target = port.get("targetPort")
        if isinstance(target, int) and not 1 <= target <= 65535:
            yield _bad(f"{pf}.targetPort", target, "must be between 1 and 65535, inclusive")
        if isinstance(target, str) and (len(target) > 15 or not _IANA_SVC_NAME.match(target)):
            yield _bad(
                f"{pf}.targetPort", target, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
            )
        node_port = port.get("nodePort")
        if node_port is not None and stype not in ("NodePort", "LoadBalancer"):
            yield _forbidden(f"{pf}.nodePort", "may not be used when `type` is 'ClusterIP'")
    if spec.get("clusterIP") == "None" and stype not in ("ClusterIP", "ExternalName"):
        yield _bad("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {stype} services")
    yield from _labels("spec.selector", spec.get("selector"))


def _secret(obj: Mapping[str, Any]) -> Iterator[Cause]:
    total = 0
    for key, value in (obj.get("data") or {}).items():
        if not _CONFIG_KEY.match(key):
            yield _bad(
                f"data[{key}]", key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
            )
        if not isinstance(value, str):
            continue
        try:
            total += len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            yield _bad(f"data[{key}]", "<secret contents redacted>", "illegal base64 data")
    if total > _MAX_SECRET_BYTES:
        yield Cause("data", "FieldValueTooLong", f"Too long: must have at most {_MAX_SECRET_BYTES} bytes")


def _configmap(obj: Mapping[str, Any]) -> Iterator[Cause]:
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    for field, values in (("data", data), ("binaryData", binary)):
        for key in values:
            if not _CONFIG_KEY.match(key):
                yield _bad(
                    f"{field}[{key}]",
                    key,
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                )
            if field == "binaryData" and key in data:
                yield Cause(f"data[{key}]", "FieldValueDuplicate", f"Duplicate value: {_value(key)}")


def _quota(obj: Mapping[str, Any]) -> Iterator[Cause]:
    yield from _quantities("spec.hard", (obj.get("spec") or {}).get("hard"))


def _limitrange(obj: Mapping[str, Any]) -> Iterator[Cause]:
    for i, item in enumerate((obj.get("spec") or {}).get("limits") or []):
        yield from _enum(f"spec.limits[{i}].type", item.get("type"), "limitType")
        for key in ("default", "defaultRequest", "max", "min", "maxLimitRequestRatio"):
            yield from _quantities(f"spec.limits[{i}].{key}", item.get(key))


def _ingress(obj: Mapping[str, Any]) -> Iterator[Cause]:
    spec = obj.get("spec") or {}
    for i, rule in enumerate(spec.get("rules") or []):
        host = rule.get("host")
        if host and not _WILDCARD_HOST.match(host):
            yield _bad(f"spec.rules[{i}].host", host, SUBDOMAIN_MESSAGE)
        for j, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
            yield from _enum(f"spec.rules[{i}].http.paths[{j}].pathType", path.get("pathType"), "pathType")
            p = path.get("path")
            if p is not None and not p.startswith("/"):
                yield _bad(f"spec.rules[{i}].http.paths[{j}].path", p, "must be an absolute path")


def _networkpolicy(obj: Mapping[str, Any]) -> Iterator[Cause]:
    for i, policy_type in enumerate((obj.get("spec") or {}).get("policyTypes") or []):
        yield from _enum(f"spec.policyTypes[{i}]", policy_type, "policyType")


_KIND_CHECKS = {
    r.DEPLOYMENTS.key: _deployment,
    r.REPLICASETS.key: _replicaset,
    r.STATEFULSETS.key: _statefulset,
    r.PVCS.key: _pvc,
    r.PODS.key: _pod,
    r.SERVICES.key: _service,
    r.SECRETS.key: _secret,
    r.CONFIGMAPS.key: _configmap,
    r.QUOTAS.key: _quota,
    r.LIMITRANGES.key: _limitrange,
    r.INGRESSES.key: _ingress,
    r.NETWORKPOLICIES.key: _networkpolicy,
}


# --- updates ---------------------------------------------------------------------------------


def _immutable(field: str, value: Any) -> Cause:
    return _bad(field, value, "field is immutable")


def _update_checks(rt: ResourceType, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Cause]:
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if rt in (r.DEPLOYMENTS, r.REPLICASETS) and old_spec.get("selector") != new_spec.get("selector"):
        yield _immutable("spec.selector", new_spec.get("selector"))
    elif rt is r.STATEFULSETS:
        if any(old_spec.get(k) != new_spec.get(k) for k in set(old_spec) | set(new_spec) if k not in _STS_MUTABLE):
            yield _forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            )
    elif rt is r.PVCS:
        yield from _pvc_update(old_spec, new_spec)
    elif rt is r.SERVICES:
        if old_spec.get("clusterIP") and new_spec.get("clusterIP") != old_spec.get("clusterIP"):
            yield _immutable("spec.clusterIP", new_spec.get("clusterIP"))
    elif rt is r.PODS:
        yield from _pod_update(old_spec, new_spec)
    elif rt in (r.SECRETS, r.CONFIGMAPS):
        if old.get("immutable"):
            if not new.get("immutable"):
                yield _forbidden("immutable", "field is immutable when `immutable` is set")
            for field in ("data", "binaryData"):
                if (old.get(field) or {}) != (new.get(field) or {}):
                    yield _forbidden(field, "field is immutable when `immutable` is set")
        if rt is r.SECRETS and old.get("type", "Opaque") != new.get("type", "Opaque"):
            yield _immutable("type", new.get("type"))


def _pvc_update(old_spec: Mapping[str, Any], new_spec: Mapping[str, Any]) -> Iterator[Cause]:
    def without_requests(spec: Mapping[str, Any]) -> dict[str, Any]:
        stripped = dict(spec)
        stripped.pop("volumeAttributesClassName", None)
        res = dict(stripped.get("resources") or {})
        res.pop("requests", None)
        stripped["resources"] = res
        return stripped

    if without_requests(old_spec) != without_requests(new_spec):
        yield _forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        )
        return
    old_size = ((old_spec.get("resources") or {}).get("requests") or {}).get("storage")
    new_size = ((new_spec.get("resources") or {}).get("requests") or {}).get("storage")
    try:
        if old_size is not None and new_size is not None and parse_quantity(new_size) < parse_quantity(old_size):
            yield _forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")
    except QuantityError:
        pass  # reported by the create-time checks


def _pod_update(old_spec: Mapping[str, Any], new_spec: Mapping[str, Any]) -> Iterator[Cause]:
    def comparable(spec: Mapping[str, Any]) -> dict[str, Any]:
        stripped = {k: v for k, v in spec.items() if k not in ("activeDeadlineSeconds", "tolerations", "nodeName")}
        for group in ("containers", "initContainers"):
            if group in stripped:
                stripped[group] = [{k: v for k, v in c.items() if k != "image"} for c in stripped[group]]
        return stripped

    if comparable(old_spec) != comparable(new_spec):
        yield _forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations)",
        )


# --- entry point -----------------------------------------------------------------------------


class Validator:
    """Validates objects of the served kinds against one Kubernetes version's rules."""

    def __init__(self, schemas: SchemaSet) -> None:
        self.schemas = schemas

    def structural(self, obj: Mapping[str, Any], *, ignore_unknown: bool = False) -> list[Cause]:
        violations = self.schemas.validate(dict(obj)) or []
        return [
            Cause(v.field, v.reason, v.message)
            for v in violations
            if not (ignore_unknown and v.message.startswith("unknown field"))
        ]

    def semantic(self, rt: ResourceType, obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> list[Cause]:
        causes = list(_metadata(rt, obj.get("metadata") or {}))
        check = _KIND_CHECKS.get(rt.key)
        if check is not None:
            causes.extend(check(obj))
        if old is not None:
            causes.extend(_update_checks(rt, old, obj))
        return causes

    def validate(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        old: Mapping[str, Any] | None = None,
        *,
        structural: bool = True,
        ignore_unknown: bool = False,
    ) -> None:
        """Raise 422 Invalid if ``obj`` (replacing ``old`` on update) would be refused."""
        causes = self.structural(obj, ignore_unknown=ignore_unknown) if structural else []
        # Semantic checks assume the structure is right; on a broken structure they only add noise.
        if not causes:
            causes = self.semantic(rt, obj, old)
        if causes:
            name = (obj.get("metadata") or {}).get("name") or ""
            raise invalid(rt.kind, rt.group, name, causes)
