"""Server-side printing: ``meta.k8s.io/v1`` Tables, which ``kubectl get`` asks for.

Columns follow kubectl's usual ones for the common kinds (pods: Ready, Status, Restarts, Age...);
other kinds get Name and Age. Each row carries the object's metadata (PartialObjectMetadata).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import resources as r
from .meta import parse_rfc3339
from .resources import ResourceType

Column = tuple[str, str, Callable[[dict[str, Any], float], Any]]


def age(obj: dict[str, Any], now: float) -> str:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    seconds = max(int(now - parse_rfc3339(created)), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size or (unit == "m" and seconds >= size):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _name(obj: dict[str, Any], now: float) -> str:
    return obj["metadata"]["name"]


def _get(*path: str, default: Any = "") -> Callable[[dict[str, Any], float], Any]:
    def read(obj: dict[str, Any], now: float) -> Any:
        node: Any = obj
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return default if node is None else node

    return read


def _pod_status(obj: dict[str, Any], now: float) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for cs in (obj.get("status") or {}).get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "ContainerCreating"):
            return waiting["reason"]
    return (obj.get("status") or {}).get("phase", "Pending")


def _pod_ready(obj: dict[str, Any], now: float) -> str:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    return f"{ready}/{len(obj['spec'].get('containers') or [])}"


def _restarts(obj: dict[str, Any], now: float) -> int:
    return sum(cs.get("restartCount", 0) for cs in (obj.get("status") or {}).get("containerStatuses") or [])


def _replicas_ready(obj: dict[str, Any], now: float) -> str:
    return f"{(obj.get('status') or {}).get('readyReplicas', 0)}/{obj['spec'].get('replicas', 1)}"


def _ports(obj: dict[str, Any], now: float) -> str:
    ports = obj["spec"].get("ports") or []
    return (
        ",".join(
            f"{p['port']}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
            for p in ports
        )
        or "<none>"
    )


def _node_status(obj: dict[str, Any], now: float) -> str:
    ready = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    text = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    return text + (",SchedulingDisabled" if obj["spec"].get("unschedulable") else "")


def _roles(obj: dict[str, Any], now: float) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in obj["metadata"].get("labels") or {} if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _hosts(obj: dict[str, Any], now: float) -> str:
    return ",".join(rule.get("host", "*") for rule in obj["spec"].get("rules") or []) or "*"


def _involved(obj: dict[str, Any], now: float) -> str:
    involved = obj.get("involvedObject") or {}
    return f"{involved.get('kind', '').lower()}/{involved.get('name', '')}"


def _last_seen(obj: dict[str, Any], now: float) -> str:
    stamp = obj.get("lastTimestamp") or obj["metadata"].get("creationTimestamp")
    return age({"metadata": {"creationTimestamp": stamp}}, now)


_COLUMNS: dict[str, list[Column]] = {
    r.PODS.key: [
        ("Name", "string", _name),
        ("Ready", "string", _pod_ready),
        ("Status", "string", _pod_status),
        ("Restarts", "integer", _restarts),
        ("Age", "string", age),
        ("IP", "string", _get("status", "podIP", default="<none>")),
        ("Node", "string", _get("spec", "nodeName", default="<none>")),
    ],
    r.DEPLOYMENTS.key: [
        ("Name", "string", _name),
        ("Ready", "string", _replicas_ready),
        ("Up-to-date", "integer", _get("status", "updatedReplicas", default=0)),
        ("Available", "integer", _get("status", "availableReplicas", default=0)),
        ("Age", "string", age),
    ],
    r.STATEFULSETS.key: [("Name", "string", _name), ("Ready", "string", _replicas_ready), ("Age", "string", age)],
    r.REPLICASETS.key: [
        ("Name", "string", _name),
        ("Desired", "integer", _get("spec", "replicas", default=0)),
        ("Current", "integer", _get("status", "replicas", default=0)),
        ("Ready", "integer", _get("status", "readyReplicas", default=0)),
        ("Age", "string", age),
    ],
    r.SERVICES.key: [
        ("Name", "string", _name),
        ("Type", "string", _get("spec", "type")),
        ("Cluster-IP", "string", _get("spec", "clusterIP", default="<none>")),
        ("External-IP", "string", lambda o, n: "<pending>" if o["spec"].get("type") == "LoadBalancer" else "<none>"),
        ("Port(s)", "string", _ports),
        ("Age", "string", age),
    ],
    r.NODES.key: [
        ("Name", "string", _name),
        ("Status", "string", _node_status),
        ("Roles", "string", _roles),
        ("Age", "string", age),
        ("Version", "string", _get("status", "nodeInfo", "kubeletVersion")),
    ],
    r.NAMESPACES.key: [
        ("Name", "string", _name),
        ("Status", "string", _get("status", "phase")),
        ("Age", "string", age),
    ],
    r.PVCS.key: [
        ("Name", "string", _name),
        ("Status", "string", _get("status", "phase")),
        ("Volume", "string", _get("spec", "volumeName")),
        ("Capacity", "string", _get("status", "capacity", "storage")),
        ("Access Modes", "string", lambda o, n: ",".join((o.get("status") or {}).get("accessModes") or [])),
        ("StorageClass", "string", _get("spec", "storageClassName", default="<unset>")),
        ("Age", "string", age),
    ],
    r.SECRETS.key: [
        ("Name", "string", _name),
        ("Type", "string", _get("type")),
        ("Data", "integer", lambda o, n: len(o.get("data") or {})),
        ("Age", "string", age),
    ],
    r.CONFIGMAPS.key: [
        ("Name", "string", _name),
        ("Data", "integer", lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
        ("Age", "string", age),
    ],
    r.INGRESSES.key: [
        ("Name", "string", _name),
        ("Class", "string", _get("spec", "ingressClassName", default="<none>")),
        ("Hosts", "string", _hosts),
        ("Address", "string", lambda o, n: ""),
        ("Ports", "string", lambda o, n: "80, 443" if o["spec"].get("tls") else "80"),
        ("Age", "string", age),
    ],
    r.EVENTS.key: [
        ("Last Seen", "string", _last_seen),
        ("Type", "string", _get("type")),
        ("Reason", "string", _get("reason")),
        ("Object", "string", _involved),
        ("Message", "string", _get("message")),
    ],
}
_DEFAULT: list[Column] = [("Name", "string", _name), ("Age", "string", age)]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def table(rt: ResourceType, objects: list[dict[str, Any]], now: float, list_meta: dict[str, Any]) -> dict[str, Any]:
    columns = _COLUMNS.get(rt.key, _DEFAULT)
    definitions = [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": f"{name} of the {rt.kind}",
            "priority": 1 if name in ("IP", "Node") else 0,
        }
        for name, kind, _ in columns
    ]
    rows = []
    for obj in objects:
        meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
        rows.append(
            {
                "cells": [read(obj, now) for _, _, read in columns],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta},
            }
        )
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }
