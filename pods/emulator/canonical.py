"""What a real API server stores and answers instead of what it was sent.

A kube-apiserver decodes every object into its Go type and encodes it again, to store it and to
answer, so what a client reads back is not byte for byte what it wrote:

- every ``resource.Quantity`` comes back in canonical form (``1024Mi`` -> ``1Gi``, ``1000m`` ->
  ``1``, ``0.5`` -> ``500m``, ``1.5Gi`` -> ``1536Mi``; the rules are in ``pods.quantity``), in
  every field the schema types as a Quantity: container requests and limits, claim sizes,
  quota ``hard``/``used``, LimitRange bounds, node capacity...;
- Go's ``encoding/json`` leaves out a field tagged ``omitempty`` whose value is the zero value
  of its type: an empty list or map (``labels: {}``, ``ports: []``), and ``""``, ``0`` or
  ``false`` in a plain string, integer or boolean field (a probe's ``initialDelaySeconds: 0``, an
  env var's ``value: ""``, a mount's ``readOnly: false``).

The second rule is applied conservatively, from an explicit table rather than a guess:

- lists and maps: every empty one that is a field of an API type is dropped, except the few the
  Go types declare without ``omitempty`` (``NOT_OMITTED_COLLECTIONS``: a pod's ``containers``, a
  LimitRange's ``limits``...). Entries of maps and items of lists are values, not fields: a label
  or a ConfigMap key with an empty value stays.
- scalars: only the fields listed in ``OMITTED_WHEN_ZERO`` lose a zero value: the plain
  ``omitempty`` string/integer/boolean fields of the types the served kinds are made of, taken
  from the json tags of ``k8s.io/api`` and ``k8s.io/apimachinery`` v0.33 (Kubernetes 1.33).
  Pointer fields keep any value they are given (``replicas: 0``, ``automountServiceAccountToken:
  false``, ``runAsNonRoot: true``, ``allowPrivilegeEscalation: false``), as do structs
  (``resources: {}``, ``emptyDir: {}``, ``securityContext: {}``) and the fields of newer API
  versions that the table does not know.

``Canonicalizer`` walks an object along the official schema of its kind. It never mutates what it
is given: it returns the same object when nothing changes, otherwise a copy sharing every part
that did not change (controllers keep references into stored objects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pods.quantity import QuantityError, format_like, parse_quantity

from .schema import Schema, SchemaSet

Fix = Callable[[Any], Any]

QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_PACKAGES = {
    "core.v1": "io.k8s.api.core.v1",
    "apps.v1": "io.k8s.api.apps.v1",
    "networking.v1": "io.k8s.api.networking.v1",
    "meta.v1": "io.k8s.apimachinery.pkg.apis.meta.v1",
}

# Lists the Go types declare without ``omitempty``: an empty one is written out (``[]``).
NOT_OMITTED_COLLECTIONS = frozenset(
    {
        ("core.v1.PodSpec", "containers"),
        ("core.v1.LimitRangeSpec", "limits"),
        ("core.v1.NodeSelector", "nodeSelectorTerms"),
        ("core.v1.ProjectedVolumeSource", "sources"),
        ("core.v1.ContainerImage", "names"),
        ("core.v1.CephFSVolumeSource", "monitors"),
        ("core.v1.CephFSPersistentVolumeSource", "monitors"),
        ("core.v1.RBDVolumeSource", "monitors"),
        ("core.v1.RBDPersistentVolumeSource", "monitors"),
        ("networking.v1.HTTPIngressRuleValue", "paths"),
    }
)

# Definition -> its plain (non-pointer) string, integer and boolean fields tagged ``omitempty``:
# where ``""``, ``0`` and ``false`` are left out. From the json tags of k8s.io/api and
# k8s.io/apimachinery v0.33, for every type the served kinds are made of (inline structs such as
# ``ProbeHandler`` and ``TypeMeta`` folded into the types that embed them, as in the schemas).
OMITTED_WHEN_ZERO: dict[str, str] = {
    "apps.v1.Deployment": "apiVersion kind",
    "apps.v1.DeploymentCondition": "message reason",
    "apps.v1.DeploymentSpec": "minReadySeconds paused",
    "apps.v1.DeploymentStatus": (
        "availableReplicas observedGeneration readyReplicas replicas unavailableReplicas updatedReplicas"
    ),
    "apps.v1.DeploymentStrategy": "type",
    "apps.v1.ReplicaSet": "apiVersion kind",
    "apps.v1.ReplicaSetCondition": "message reason",
    "apps.v1.ReplicaSetSpec": "minReadySeconds",
    "apps.v1.ReplicaSetStatus": "availableReplicas fullyLabeledReplicas observedGeneration readyReplicas",
    "apps.v1.StatefulSet": "apiVersion kind",
    "apps.v1.StatefulSetCondition": "message reason",
    "apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy": "whenDeleted whenScaled",
    "apps.v1.StatefulSetSpec": "minReadySeconds podManagementPolicy",
    "apps.v1.StatefulSetStatus": (
        "currentReplicas currentRevision observedGeneration readyReplicas updateRevision updatedReplicas"
    ),
    "apps.v1.StatefulSetUpdateStrategy": "type",
    "core.v1.AWSElasticBlockStoreVolumeSource": "fsType partition readOnly",
    "core.v1.AzureFilePersistentVolumeSource": "readOnly",
    "core.v1.AzureFileVolumeSource": "readOnly",
    "core.v1.CSIPersistentVolumeSource": "fsType readOnly",
    "core.v1.CephFSPersistentVolumeSource": "path readOnly secretFile user",
    "core.v1.CephFSVolumeSource": "path readOnly secretFile user",
    "core.v1.CinderPersistentVolumeSource": "fsType readOnly",
    "core.v1.CinderVolumeSource": "fsType readOnly",
    "core.v1.ConfigMap": "apiVersion kind",
    "core.v1.ConfigMapEnvSource": "name",
    "core.v1.ConfigMapKeySelector": "name",
    "core.v1.ConfigMapNodeConfigSource": "resourceVersion uid",
    "core.v1.ConfigMapProjection": "name",
    "core.v1.ConfigMapVolumeSource": "name",
    "core.v1.Container": (
        "image imagePullPolicy stdin stdinOnce terminationMessagePath terminationMessagePolicy tty workingDir"
    ),
    "core.v1.ContainerImage": "sizeBytes",
    "core.v1.ContainerPort": "hostIP hostPort name protocol",
    "core.v1.ContainerStateTerminated": "containerID message reason signal",
    "core.v1.ContainerStateWaiting": "message reason",
    "core.v1.ContainerStatus": "containerID",
    "core.v1.EmptyDirVolumeSource": "medium",
    "core.v1.EnvFromSource": "prefix",
    "core.v1.EnvVar": "value",
    "core.v1.EphemeralContainer": (
        "image imagePullPolicy stdin stdinOnce targetContainerName terminationMessagePath "
        "terminationMessagePolicy tty workingDir"
    ),
    "core.v1.Event": "action apiVersion count kind message reason type",
    "core.v1.EventSeries": "count",
    "core.v1.EventSource": "component host",
    "core.v1.FCVolumeSource": "fsType readOnly",
    "core.v1.FlexPersistentVolumeSource": "fsType readOnly",
    "core.v1.FlexVolumeSource": "fsType readOnly",
    "core.v1.FlockerVolumeSource": "datasetName datasetUUID",
    "core.v1.GCEPersistentDiskVolumeSource": "fsType partition readOnly",
    "core.v1.GitRepoVolumeSource": "directory revision",
    "core.v1.GlusterfsPersistentVolumeSource": "readOnly",
    "core.v1.GlusterfsVolumeSource": "readOnly",
    "core.v1.HTTPGetAction": "host path scheme",
    "core.v1.ISCSIPersistentVolumeSource": "chapAuthDiscovery chapAuthSession fsType iscsiInterface readOnly",
    "core.v1.ISCSIVolumeSource": "chapAuthDiscovery chapAuthSession fsType iscsiInterface readOnly",
    "core.v1.ImageVolumeSource": "pullPolicy reference",
    "core.v1.LimitRange": "apiVersion kind",
    "core.v1.LoadBalancerIngress": "hostname ip",
    "core.v1.LocalObjectReference": "name",
    "core.v1.ModifyVolumeStatus": "targetVolumeAttributesClassName",
    "core.v1.NFSVolumeSource": "readOnly",
    "core.v1.Namespace": "apiVersion kind",
    "core.v1.NamespaceCondition": "message reason",
    "core.v1.NamespaceStatus": "phase",
    "core.v1.Node": "apiVersion kind",
    "core.v1.NodeCondition": "message reason",
    "core.v1.NodeConfigStatus": "error",
    "core.v1.NodeSpec": "externalID podCIDR providerID unschedulable",
    "core.v1.NodeStatus": "phase",
    "core.v1.ObjectFieldSelector": "apiVersion",
    "core.v1.ObjectReference": "apiVersion fieldPath kind name namespace resourceVersion uid",
    "core.v1.PersistentVolume": "apiVersion kind",
    "core.v1.PersistentVolumeClaim": "apiVersion kind",
    "core.v1.PersistentVolumeClaimCondition": "message reason",
    "core.v1.PersistentVolumeClaimSpec": "volumeName",
    "core.v1.PersistentVolumeClaimStatus": "phase",
    "core.v1.PersistentVolumeClaimVolumeSource": "readOnly",
    "core.v1.PersistentVolumeSpec": "persistentVolumeReclaimPolicy storageClassName",
    "core.v1.PersistentVolumeStatus": "message phase reason",
    "core.v1.PhotonPersistentDiskVolumeSource": "fsType",
    "core.v1.Pod": "apiVersion kind",
    "core.v1.PodCondition": "message observedGeneration reason",
    "core.v1.PodDNSConfigOption": "name",
    "core.v1.PodSpec": (
        "dnsPolicy hostIPC hostNetwork hostPID hostname nodeName priorityClassName restartPolicy "
        "schedulerName serviceAccount serviceAccountName subdomain"
    ),
    "core.v1.PodStatus": "hostIP message nominatedNodeName observedGeneration phase podIP qosClass reason resize",
    "core.v1.PortworxVolumeSource": "fsType readOnly",
    "core.v1.Probe": "failureThreshold initialDelaySeconds periodSeconds successThreshold timeoutSeconds",
    "core.v1.QuobyteVolumeSource": "group readOnly tenant user",
    "core.v1.RBDPersistentVolumeSource": "fsType keyring pool readOnly user",
    "core.v1.RBDVolumeSource": "fsType keyring pool readOnly user",
    "core.v1.ResourceClaim": "request",
    "core.v1.ResourceFieldSelector": "containerName",
    "core.v1.ResourceHealth": "health",
    "core.v1.ResourceQuota": "apiVersion kind",
    "core.v1.SELinuxOptions": "level role type user",
    "core.v1.ScaleIOPersistentVolumeSource": (
        "fsType protectionDomain readOnly sslEnabled storageMode storagePool volumeName"
    ),
    "core.v1.ScaleIOVolumeSource": "fsType protectionDomain readOnly sslEnabled storageMode storagePool volumeName",
    "core.v1.Secret": "apiVersion kind type",
    "core.v1.SecretEnvSource": "name",
    "core.v1.SecretKeySelector": "name",
    "core.v1.SecretProjection": "name",
    "core.v1.SecretReference": "name namespace",
    "core.v1.SecretVolumeSource": "secretName",
    "core.v1.Service": "apiVersion kind",
    "core.v1.ServiceAccount": "apiVersion kind",
    "core.v1.ServiceAccountTokenProjection": "audience",
    "core.v1.ServicePort": "name nodePort protocol",
    "core.v1.ServiceSpec": (
        "clusterIP externalName externalTrafficPolicy healthCheckNodePort loadBalancerIP "
        "publishNotReadyAddresses sessionAffinity type"
    ),
    "core.v1.StorageOSPersistentVolumeSource": "fsType readOnly volumeName volumeNamespace",
    "core.v1.StorageOSVolumeSource": "fsType readOnly volumeName volumeNamespace",
    "core.v1.TCPSocketAction": "host",
    "core.v1.Taint": "value",
    "core.v1.Toleration": "effect key operator value",
    "core.v1.VolumeMount": "readOnly subPath subPathExpr",
    "core.v1.VolumeMountStatus": "readOnly",
    "core.v1.VsphereVirtualDiskVolumeSource": "fsType storagePolicyID storagePolicyName",
    "networking.v1.HTTPIngressPath": "path",
    "networking.v1.Ingress": "apiVersion kind",
    "networking.v1.IngressLoadBalancerIngress": "hostname ip",
    "networking.v1.IngressRule": "host",
    "networking.v1.IngressTLS": "secretName",
    "networking.v1.NetworkPolicy": "apiVersion kind",
    "networking.v1.ServiceBackendPort": "name number",
    "meta.v1.Condition": "observedGeneration",
    "meta.v1.ManagedFieldsEntry": "apiVersion fieldsType manager operation subresource",
    "meta.v1.ObjectMeta": "generateName generation name namespace resourceVersion selfLink uid",
}


def _full_name(short: str) -> str:
    package, _, kind = short.rpartition(".")
    return f"{_PACKAGES[package]}.{kind}"


_SCALARS: dict[str, frozenset[str]] = {
    _full_name(name): frozenset(fields.split()) for name, fields in OMITTED_WHEN_ZERO.items()
}
_KEPT = frozenset((_full_name(name), field) for name, field in NOT_OMITTED_COLLECTIONS)


_CANONICAL_QUANTITIES: dict[str, str] = {}


def canonical_quantity(value: Any) -> Any:
    """A quantity (string or number) in canonical form; anything that is not one, unchanged."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    if isinstance(value, str):
        canonical = _CANONICAL_QUANTITIES.get(value)
        if canonical is not None:
            return value if canonical == value else canonical
    try:
        canonical = format_like(parse_quantity(value), value)
    except QuantityError:
        return value  # validation refuses it (or an internal write made it: left alone)
    if isinstance(value, str):
        if len(_CANONICAL_QUANTITIES) > 10_000:
            _CANONICAL_QUANTITIES.clear()
        _CANONICAL_QUANTITIES[value] = canonical
    return value if canonical == value else canonical


def _is_zero(value: Any) -> bool:
    """Go's zero value of a string, integer or boolean (or JSON null)."""
    return value is None or value is False or value == "" or (type(value) in (int, float) and value == 0)


class Canonicalizer:
    """Canonical quantities and ``omitempty`` for the objects of one Kubernetes version's schemas."""

    def __init__(self, schemas: SchemaSet) -> None:
        self.schemas = schemas
        self._compiled: dict[str, Fix] = {}

    def object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` as the API server would store and return it (the same dict when nothing changes)."""
        name = self.schemas.root_name(obj.get("apiVersion", ""), obj.get("kind", ""))
        return obj if name is None else self._definition(name)(obj)

    def field(self, obj: dict[str, Any], key: str, value: Any) -> Any:
        """``value`` as the API server would write it in the top-level field ``key`` of ``obj``'s kind
        (``status``, ``spec``); the value itself when the kind has no schema or no such field."""
        name = self.schemas.root_name(obj.get("apiVersion", ""), obj.get("kind", ""))
        if name is None:
            return value
        cache_key = f"{name}#{key}"
        fix = self._compiled.get(cache_key)
        if fix is None:
            child = ((self.schemas.definition(name) or {}).get("properties") or {}).get(key)
            fix = self._compiled[cache_key] = (self._compile(child) if child is not None else None) or _unchanged
        return fix(value)

    # --- compilation ------------------------------------------------------------------------

    def _definition(self, name: str) -> Fix:
        fix = self._compiled.get(name)
        if fix is None:
            if name == QUANTITY:
                fix = canonical_quantity
            else:
                fix = self._compile(self.schemas.definition(name) or {}, name) or _unchanged
            self._compiled[name] = fix
        return fix

    def _lazy(self, name: str) -> Fix:
        """A fix for a ``$ref``, compiled on first use (definitions can be recursive)."""
        resolved: Fix | None = None

        def fix(value: Any) -> Any:
            nonlocal resolved
            if resolved is None:
                resolved = self._definition(name)
            return resolved(value)

        return fix

    def _compile(self, schema: Schema, name: str | None = None) -> Fix | None:
        """The fix for values of ``schema`` (``name`` when it is a definition); None when there is
        nothing to do (scalars, free-form objects)."""
        ref = SchemaSet.ref_name(schema)
        if ref is not None:
            return self._lazy(ref)
        if "properties" in schema:
            return self._struct(schema, name)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            values = self._compile(extra)
            return None if values is None else _map(values)
        if isinstance(schema.get("items"), dict):
            items = self._compile(schema["items"])
            return None if items is None else _list(items)
        return None

    def _struct(self, schema: Schema, name: str | None) -> Fix:
        scalars = _SCALARS.get(name or "", frozenset())
        # key -> (fix of its value or None, drop it when an empty list/map, drop it when a zero scalar)
        fields: dict[str, tuple[Fix | None, bool, bool]] = {}
        for key, sub in schema["properties"].items():
            node = self.schemas.resolve(sub) or {}
            collection = "items" in node or (
                isinstance(node.get("additionalProperties"), dict) and "properties" not in node
            )
            child = self._compile(sub)
            omit_empty = collection and (name, key) not in _KEPT
            if child is not None or omit_empty or key in scalars:
                fields[key] = (child, omit_empty, key in scalars)

        def fix(value: Any) -> Any:
            if type(value) is not dict:
                return value
            out: dict[str, Any] | None = None
            for key, item in value.items():
                spec = fields.get(key)
                if spec is None:
                    continue
                child, omit_empty, omit_zero = spec
                new = item if child is None or item is None else child(item)
                if (omit_empty and (new is None or (type(new) in (list, dict) and not new))) or (
                    omit_zero and _is_zero(new)
                ):
                    if out is None:
                        out = dict(value)
                    del out[key]
                elif new is not item:
                    if out is None:
                        out = dict(value)
                    out[key] = new
            return value if out is None else out

        return fix


def _unchanged(value: Any) -> Any:
    return value


def _map(values: Fix) -> Fix:
    def fix(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] | None = None
        for key, item in value.items():
            new = values(item)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out

    return fix


def _list(items: Fix) -> Fix:
    def fix(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out: list[Any] | None = None
        for index, item in enumerate(value):
            new = items(item)
            if new is not item:
                if out is None:
                    out = list(value)
                out[index] = new
        return value if out is None else out

    return fix
