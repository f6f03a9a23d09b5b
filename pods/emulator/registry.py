"""The storage semantics of the API: create, update, status update and delete of one object.

Everything the real API server does between decoding a request and writing to etcd lives here:
server-set metadata (uid, resourceVersion, generation, creationTimestamp, managedFields),
defaulting, validation, admission (namespace lifecycle, LimitRanger, ResourceQuota),
optimistic concurrency on ``resourceVersion``, Secret ``stringData``, Service IP and port
allocation, no-op writes that keep the resourceVersion, dry runs, finalizers and the three
deletion propagation policies. The HTTP layer (``api``) and the controllers both go through it,
so a pod a ReplicaSet creates meets the same quota as one a client posts.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import resources as r
from .admission import Admission
from .allocators import AllocationError, ClusterIPs, NodePorts
from .apply import FieldManager
from .canonical import Canonicalizer
from .defaults import apply_defaults
from .errors import Cause, already_exists, bad_request, conflict, invalid, not_found
from .meta import clone, generated_name, new_uid, rfc3339
from .patch import StrategicMerge
from .resources import ResourceType
from .schema import SchemaSet
from .store import Store
from .validation import Validator

# Metadata only the server sets: whatever a client sends for these on create is dropped.
_SERVER_META = ("uid", "resourceVersion", "creationTimestamp", "generation", "deletionTimestamp", "selfLink")
_CARRIED_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
FOREGROUND = "foregroundDeletion"


@dataclass(frozen=True)
class WriteOptions:
    """How a write is made. ``manager`` None means an internal (controller) write: no managedFields."""

    manager: str | None = None
    dry_run: bool = False
    validate: bool = True
    ignore_unknown_fields: bool = False


INTERNAL = WriteOptions(validate=False)


class Registry:
    def __init__(
        self, store: Store, schemas: SchemaSet, admission: Admission, clock: Callable[[], float], rng: random.Random
    ) -> None:
        self.store = store
        self.schemas = schemas
        self.validator = Validator(schemas)
        self.canonical = Canonicalizer(schemas)
        self.fields = FieldManager(schemas)
        self.strategic = StrategicMerge(schemas)
        self.admission = admission
        self.clock = clock
        self.rng = rng
        self.cluster_ips = ClusterIPs()
        self.node_ports = NodePorts()
        store.subscribe(self._release_allocations)

    def rebuild(self) -> None:
        """Recompute allocations from the stored Services (after a restore or a reset)."""
        services = list(self.store.iter(r.SERVICES))
        self.cluster_ips.rebuild(services)
        self.node_ports.rebuild(services)

    # --- reads ----------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rt, namespace if rt.namespaced else "", name)
        if obj is None:
            raise not_found(rt.plural, rt.group, name)
        return obj

    # --- create ---------------------------------------------------------------------------

    def create(
        self,
        rt: ResourceType,
        obj: dict[str, Any],
        namespace: str,
        opts: WriteOptions = INTERNAL,
        *,
        managed_fields: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a new object (``obj`` is consumed). Returns it as stored, or as it would be on a dry run."""
        meta = self._identify(rt, obj, namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(rt, namespace, meta["generateName"])
        for key in (*_SERVER_META, "managedFields", "deletionGracePeriodSeconds"):
            meta.pop(key, None)
        if rt.has_status:
            obj.pop("status", None)
        if opts.validate:
            self._structural(rt, obj, opts)
        self._prepare(rt, obj, None)
        # As a real server decodes it: canonical quantities, zero values gone (then defaulted).
        obj = self.canonical.object(obj)
        meta = obj["metadata"]
        apply_defaults(rt, obj)
        if opts.validate:
            self._semantic(rt, obj, None)
        name = meta["name"]
        if rt.namespaced:
            self.admission.namespace_open(rt, namespace, name)
        if rt is r.PODS:
            self.admission.limit_ranges(obj)
        if rt.namespaced:
            self.admission.check_quota(rt, obj, None, namespace)
        if self.store.get(rt, namespace if rt.namespaced else "", name) is not None:
            raise already_exists(rt.plural, rt.group, name)

        now = self.clock()
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = rfc3339(now)
        if rt.tracks_generation:
            meta["generation"] = 1
        if managed_fields is not None:
            meta["managedFields"] = managed_fields
        elif opts.manager:
            self.fields.record_update(None, obj, opts.manager, now)
        if rt is r.SERVICES:
            self._allocate(obj, None, dry_run=opts.dry_run)
        if opts.dry_run:
            return obj
        return self.store.put(rt, obj)

    # --- update ---------------------------------------------------------------------------

    def update(
        self,
        rt: ResourceType,
        obj: dict[str, Any],
        namespace: str,
        name: str,
        opts: WriteOptions = INTERNAL,
        *,
        managed_fields: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Replace an object (``obj`` is consumed). Status is kept from the stored object for kinds
        with a status subresource. A write that changes nothing keeps the resourceVersion."""
        old = self.get(rt, namespace, name)
        meta = self._identify(rt, obj, namespace)
        if meta.get("name") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        self._preconditions(rt, old, meta.get("resourceVersion"), meta.get("uid"))
        if opts.validate:
            self._structural(rt, obj, opts)
        for key in _CARRIED_META:
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
            else:
                meta.pop(key, None)
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if rt.has_status:
            if "status" in old:
                obj["status"] = clone(old["status"])
            else:
                obj.pop("status", None)
        self._prepare(rt, obj, old)
        obj = self.canonical.object(obj)
        meta = obj["metadata"]
        apply_defaults(rt, obj)
        if opts.validate:
            self._semantic(rt, obj, old)
        if rt in (r.PVCS, r.SERVICES):
            self.admission.check_quota(rt, obj, old, namespace)
        if rt.tracks_generation and _spec_of(obj) != _spec_of(old):
            meta["generation"] = old["metadata"].get("generation", 0) + 1
        now = self.clock()
        if managed_fields is not None:
            meta["managedFields"] = managed_fields
        elif opts.manager:
            self.fields.record_update(old, obj, opts.manager, now)
        elif "managedFields" in old["metadata"]:
            meta["managedFields"] = old["metadata"]["managedFields"]
        return self._commit(rt, old, obj, opts)

    def update_status(
        self, rt: ResourceType, namespace: str, name: str, obj: dict[str, Any], opts: WriteOptions = INTERNAL
    ) -> dict[str, Any]:
        """The status subresource: only ``status`` changes; no generation bump."""
        old = self.get(rt, namespace, name)
        meta = obj.get("metadata") or {}
        self._preconditions(rt, old, meta.get("resourceVersion"), meta.get("uid"))
        new = clone(old)
        if obj.get("status") is None:
            new.pop("status", None)
        else:
            new["status"] = obj["status"]
        if opts.validate:
            self._structural(rt, new, opts)
        if "status" in new:
            new["status"] = self.canonical.field(new, "status", new["status"])
        if opts.manager:
            self.fields.record_update(old, new, opts.manager, self.clock(), subresource="status")
        return self._commit(rt, old, new, opts)

    def _commit(self, rt: ResourceType, old: dict[str, Any], new: dict[str, Any], opts: WriteOptions) -> dict[str, Any]:
        if _comparable(new) == _comparable(old):
            return old
        if rt is r.SERVICES:
            self._allocate(new, old, dry_run=opts.dry_run)
        if opts.dry_run:
            return new
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self.store.remove(rt, meta.get("namespace", "") if rt.namespaced else "", meta["name"])
            return new
        return self.store.put(rt, new)

    # --- delete ---------------------------------------------------------------------------

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        *,
        propagation: str | None = None,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Delete an object. Returns the object and whether it is gone (False while finalizers,
        foreground deletion or namespace termination keep it, with ``deletionTimestamp`` set)."""
        obj = self.get(rt, namespace, name)
        preconditions = preconditions or {}
        self._preconditions(rt, obj, preconditions.get("resourceVersion"), preconditions.get("uid"))
        now = rfc3339(self.clock())
        if rt is r.NAMESPACES:
            self.admission.namespace_deletable(name)
            if obj["metadata"].get("deletionTimestamp"):
                return obj, False
            new = clone(obj)
            new["metadata"]["deletionTimestamp"] = now
            new.setdefault("status", {})["phase"] = "Terminating"
            return (new if dry_run else self.store.put(rt, new)), False

        policy = propagation or "Background"
        if policy not in ("Background", "Foreground", "Orphan"):
            raise invalid(
                "DeleteOptions",
                "meta.k8s.io",
                "",
                [Cause("propagationPolicy", "FieldValueNotSupported", f'Unsupported value: "{policy}"')],
            )
        uid = obj["metadata"]["uid"]
        if policy == "Orphan" and not dry_run:
            self._orphan(uid)
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if policy == "Foreground" and self.store.dependents(uid) and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        if finalizers:
            if obj["metadata"].get("deletionTimestamp"):
                return obj, False
            new = clone(obj)
            new["metadata"].update(deletionTimestamp=now, deletionGracePeriodSeconds=0, finalizers=finalizers)
            return (new if dry_run else self.store.put(rt, new)), False
        answer = obj
        if rt is r.PODS:
            # A real server answers a pod delete with the pod, marked for graceful termination.
            answer = clone(obj)
            grace = (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            answer["metadata"].update(deletionTimestamp=now, deletionGracePeriodSeconds=grace)
        if not dry_run:
            self.store.remove(rt, namespace if rt.namespaced else "", name)
        return answer, True

    def _orphan(self, owner_uid: str) -> None:
        for ref in self.store.dependents(owner_uid):
            dependent = self.store.resolve(ref)
            if dependent is None:
                continue
            new = clone(dependent)
            new["metadata"]["ownerReferences"] = [
                o for o in new["metadata"].get("ownerReferences") or [] if o.get("uid") != owner_uid
            ]
            if not new["metadata"]["ownerReferences"]:
                del new["metadata"]["ownerReferences"]
            self.store.put(r.by_key(ref[0]), new)

    # --- helpers --------------------------------------------------------------------------

    def _identify(self, rt: ResourceType, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
        """Check and fill apiVersion/kind and the namespace; returns the metadata."""
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was in an unknown format")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if (kind and kind != rt.kind) or (api_version and api_version != rt.api_version):
            raise bad_request(
                f'{kind or rt.kind} in version "{api_version or rt.api_version}" cannot be handled as a {rt.kind}: '
                f"the object provided is unrecognized"
            )
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return meta

    def _generate_name(self, rt: ResourceType, namespace: str, prefix: str) -> str:
        for _ in range(8):
            name = generated_name(prefix, self.rng)
            if self.store.get(rt, namespace if rt.namespaced else "", name) is None:
                return name
        return generated_name(prefix, self.rng)

    @staticmethod
    def _preconditions(rt: ResourceType, current: dict[str, Any], rv: str | None, uid: str | None) -> None:
        meta = current["metadata"]
        if uid and uid != meta.get("uid"):
            raise conflict(
                rt.plural,
                rt.group,
                meta["name"],
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}",
            )
        if rv and rv != meta.get("resourceVersion"):
            raise conflict(rt.plural, rt.group, meta["name"])

    def _structural(self, rt: ResourceType, obj: dict[str, Any], opts: WriteOptions) -> None:
        causes = self.validator.structural(obj, ignore_unknown=opts.ignore_unknown_fields)
        if causes:
            raise invalid(rt.kind, rt.group, (obj.get("metadata") or {}).get("name") or "", causes)

    def _semantic(self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        causes = self.validator.semantic(rt, obj, old)
        if causes:
            raise invalid(rt.kind, rt.group, obj["metadata"].get("name") or "", causes)

    def _prepare(self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if rt is r.SECRETS and "stringData" in obj:
            string_data = obj.pop("stringData") or {}
            data = obj.get("data") or {}
            for key, value in string_data.items():
                if isinstance(value, str):
                    data[key] = base64.b64encode(value.encode()).decode()
            obj["data"] = data
        elif rt is r.SERVICES and old is not None:
            # A Service update that omits allocated values keeps them (the server's patchAllocatedValues).
            spec, old_spec = obj.setdefault("spec", {}), old.get("spec") or {}
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if not spec.get(key) and old_spec.get(key):
                    spec[key] = clone(old_spec[key])
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
            for port in spec.get("ports") or []:
                previous = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if previous and previous.get("nodePort") and not port.get("nodePort"):
                    port["nodePort"] = previous["nodePort"]

    def _allocate(self, svc: dict[str, Any], old: dict[str, Any] | None, *, dry_run: bool) -> None:
        spec = svc.setdefault("spec", {})
        stype = spec.get("type", "ClusterIP")
        taken_ports: list[int] = []
        taken_ip: str | None = None
        try:
            if stype != "ExternalName" and old is None:
                if spec.get("clusterIP") != "None":
                    taken_ip = spec["clusterIP"] = self.cluster_ips.allocate(spec.get("clusterIP"))
                spec["clusterIPs"] = [spec["clusterIP"]]
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
            if stype in ("NodePort", "LoadBalancer"):
                old_ports = {p.get("nodePort") for p in ((old or {}).get("spec") or {}).get("ports") or []}
                for port in spec.get("ports") or []:
                    if port.get("nodePort") in old_ports and port.get("nodePort"):
                        continue
                    port["nodePort"] = self.node_ports.allocate(port.get("nodePort"))
                    taken_ports.append(port["nodePort"])
        except AllocationError as exc:
            self.cluster_ips.release(taken_ip)
            self.node_ports.release(taken_ports)
            raise invalid(
                "Service",
                "",
                svc["metadata"].get("name", ""),
                [Cause("spec.clusterIPs", "FieldValueInvalid", str(exc))],
            ) from exc
        if dry_run:
            self.cluster_ips.release(taken_ip)
            self.node_ports.release(taken_ports)
        if stype == "LoadBalancer":
            svc.setdefault("status", {}).setdefault("loadBalancer", {})

    def _release_allocations(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is not r.SERVICES or old is None:
            return
        old_spec = old.get("spec") or {}
        new_spec = (new or {}).get("spec") or {}
        if new is None:
            self.cluster_ips.release(old_spec.get("clusterIP"))
        kept = {p.get("nodePort") for p in new_spec.get("ports") or []}
        self.node_ports.release(
            p["nodePort"] for p in old_spec.get("ports") or [] if p.get("nodePort") and p["nodePort"] not in kept
        )


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    """Everything but metadata and status: what ``generation`` counts changes of."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "managedFields")}
    managed = [{k: v for k, v in e.items() if k != "time"} for e in obj["metadata"].get("managedFields") or []]
    return {**obj, "metadata": meta, "managedFields": managed}
