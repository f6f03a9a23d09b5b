"""The table of served kinds: what discovery advertises and what every handler looks up.

One ``ResourceType`` per REST resource, with the facts of the real API server that the
handlers depend on: scope, verbs, subresources, the name syntax the kind requires, which field
selectors it supports, whether it tracks ``metadata.generation`` and what DELETE answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update")
READ_ONLY = ("get", "list")

# Name syntax per kind, as the API server's validators check ``metadata.name``.
SUBDOMAIN = "subdomain"  # DNS-1123 subdomain: most kinds
LABEL = "label"  # DNS-1123 label: namespaces
DNS1035 = "dns1035"  # DNS-1035 label: services (they become DNS names and env var prefixes)
PATH_SEGMENT = "path"  # anything usable in a URL path: events, access reviews


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class ResourceType:
    """One REST resource (``deployments`` in ``apps/v1``) and how the server treats it."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = CRUD
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    name_rule: str = SUBDOMAIN
    field_selectors: frozenset[str] = field(default_factory=frozenset)
    tracks_generation: bool = False
    # DELETE answers the deleted object (as these kinds do) rather than a Status.
    delete_returns_object: bool = False
    # Served from computed state (metrics, access reviews), never stored.
    virtual: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """``deployments.apps`` / ``pods``: the store key and the name used in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status(self) -> bool:
        return self.subresource("status") is not None

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    def supports_field(self, name: str) -> bool:
        return name in ("metadata.name", "metadata.namespace") or name in self.field_selectors


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, ("get", "patch", "update"))


_SCALE = Subresource("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")

RESOURCES: tuple[ResourceType, ...] = (
    # --- core/v1 ---------------------------------------------------------------------------
    ResourceType(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        False,
        verbs=("create", "delete", "get", "list", "patch", "update"),
        short_names=("ns",),
        subresources=(_status("Namespace"),),
        name_rule=LABEL,
        field_selectors=frozenset({"status.phase"}),
        delete_returns_object=True,
    ),
    ResourceType(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        False,
        short_names=("no",),
        subresources=(_status("Node"),),
        field_selectors=frozenset({"spec.unschedulable"}),
    ),
    ResourceType(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        True,
        short_names=("po",),
        categories=("all",),
        subresources=(_status("Pod"), Subresource("log", "Pod", ("get",))),
        field_selectors=frozenset(
            {"status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "status.podIP"}
        ),
        delete_returns_object=True,
    ),
    ResourceType("", "v1", "secrets", "secret", "Secret", True, field_selectors=frozenset({"type"})),
    ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, short_names=("cm",)),
    ResourceType(
        "",
        "v1",
        "services",
        "service",
        "Service",
        True,
        # A real server has no deletecollection for services.
        verbs=("create", "delete", "get", "list", "patch", "update"),
        short_names=("svc",),
        categories=("all",),
        subresources=(_status("Service"),),
        name_rule=DNS1035,
        delete_returns_object=True,
    ),
    ResourceType(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        True,
        short_names=("pvc",),
        subresources=(_status("PersistentVolumeClaim"),),
        delete_returns_object=True,
    ),
    ResourceType(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        False,
        short_names=("pv",),
        subresources=(_status("PersistentVolume"),),
        delete_returns_object=True,
    ),
    ResourceType(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        True,
        short_names=("quota",),
        subresources=(_status("ResourceQuota"),),
        delete_returns_object=True,
    ),
    ResourceType("", "v1", "limitranges", "limitrange", "LimitRange", True, short_names=("limits",)),
    ResourceType(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        True,
        short_names=("sa",),
        delete_returns_object=True,
    ),
    ResourceType(
        "",
        "v1",
        "events",
        "event",
        "Event",
        True,
        short_names=("ev",),
        name_rule=PATH_SEGMENT,
        field_selectors=frozenset(
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            }
        ),
    ),
    # --- apps/v1 ---------------------------------------------------------------------------
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        True,
        short_names=("deploy",),
        categories=("all",),
        subresources=(_status("Deployment"), _SCALE),
        tracks_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        True,
        short_names=("sts",),
        categories=("all",),
        subresources=(_status("StatefulSet"), _SCALE),
        tracks_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        True,
        short_names=("rs",),
        categories=("all",),
        subresources=(_status("ReplicaSet"), _SCALE),
        tracks_generation=True,
    ),
    # --- networking.k8s.io/v1 --------------------------------------------------------------
    ResourceType(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        True,
        short_names=("ing",),
        subresources=(_status("Ingress"),),
        tracks_generation=True,
    ),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        True,
        short_names=("netpol",),
        tracks_generation=True,
    ),
    # --- authorization.k8s.io/v1 -----------------------------------------------------------
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
        name_rule=PATH_SEGMENT,
        virtual=True,
    ),
    # --- metrics.k8s.io/v1beta1 ------------------------------------------------------------
    ResourceType("metrics.k8s.io", "v1beta1", "pods", "", "PodMetrics", True, verbs=READ_ONLY, virtual=True),
    ResourceType("metrics.k8s.io", "v1beta1", "nodes", "", "NodeMetrics", False, verbs=READ_ONLY, virtual=True),
)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KEY = {r.key: r for r in RESOURCES if not r.virtual}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def by_key(key: str) -> ResourceType:
    """The stored resource named ``deployments``, ``deployments.apps`` or ``pods``.

    Raises ``KeyError`` for anything else.
    """
    if key in _BY_KEY:
        return _BY_KEY[key]
    matches = [r for r in _BY_KEY.values() if r.plural == key]
    if len(matches) == 1:
        return matches[0]
    raise KeyError(key)


def stored() -> Iterator[ResourceType]:
    return iter(_BY_KEY.values())


def groups() -> dict[str, list[str]]:
    """Group name -> its versions, in the order discovery lists them (core group is ``""``)."""
    found: dict[str, list[str]] = {}
    for r in RESOURCES:
        versions = found.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return found


NAMESPACES = by_key("namespaces")
NODES = by_key("nodes")
PODS = by_key("pods")
SECRETS = by_key("secrets")
CONFIGMAPS = by_key("configmaps")
SERVICES = by_key("services")
PVCS = by_key("persistentvolumeclaims")
PVS = by_key("persistentvolumes")
QUOTAS = by_key("resourcequotas")
LIMITRANGES = by_key("limitranges")
SERVICEACCOUNTS = by_key("serviceaccounts")
EVENTS = by_key("events")
DEPLOYMENTS = by_key("deployments")
STATEFULSETS = by_key("statefulsets")
REPLICASETS = by_key("replicasets")
INGRESSES = by_key("ingresses")
NETWORKPOLICIES = by_key("networkpolicies")
