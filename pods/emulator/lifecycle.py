"""Cluster housekeeping controllers: namespaces, garbage collection, volumes and quota status.

- ``NamespaceController``: a new namespace gets its ``default`` ServiceAccount and
  ``kube-root-ca.crt`` ConfigMap; a namespace marked for deletion (``Terminating``) has
  everything inside it deleted, then disappears.
- ``GarbageCollector``: when an owner is deleted, dependents with no owner left are deleted too
  (background propagation); an owner deleted in the foreground waits for its dependents.
- ``VolumeBinder``: every Pending claim is bound to a new PersistentVolume ``pvc-<uid>``
  (dynamic provisioning, reclaim policy Delete) with ``status.capacity`` set; a larger request
  resizes both; deleting the claim deletes its volume.
- ``QuotaController``: ``status.hard`` and ``status.used`` of every ResourceQuota, recomputed
  when something that charges it changes in its namespace.
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import resources as r
from .errors import ApiError
from .loop import Controller
from .meta import clone
from .quota import format_usage
from .registry import FOREGROUND, INTERNAL
from .resources import ResourceType

ROOT_CA = "kube-root-ca.crt"
_PLACEHOLDER_CA = (
    "-----BEGIN CERTIFICATE-----\n"
    "cGFhcy1lbXVsYXRvcjogbm8gcmVhbCBjZXJ0aWZpY2F0ZSBhdXRob3JpdHk=\n"
    "-----END CERTIFICATE-----\n"
)
PROVISIONER = "paas-emulator/hostpath"


class NamespaceController(Controller):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.NAMESPACES and new is not None:
            self.enqueue(new["metadata"]["name"])

    def resync(self) -> None:
        for ns in self.loop.store.iter(r.NAMESPACES):
            self.enqueue(ns["metadata"]["name"])

    def sync(self, key: Any) -> None:
        ns = self.loop.store.get(r.NAMESPACES, "", key)
        if ns is None:
            return
        if ns["metadata"].get("deletionTimestamp"):
            for rt in r.stored():
                if rt.namespaced:
                    for obj in list(self.loop.store.iter(rt, key)):
                        self.loop.store.remove(rt, key, obj["metadata"]["name"])
            self.loop.store.remove(r.NAMESPACES, "", key)
            return
        defaults = (
            (r.SERVICEACCOUNTS, {"metadata": {"name": "default"}}),
            (r.CONFIGMAPS, {"metadata": {"name": ROOT_CA}, "data": {"ca.crt": _PLACEHOLDER_CA}}),
        )
        for rt, obj in defaults:
            if self.loop.store.get(rt, key, obj["metadata"]["name"]) is None:
                # Refused (e.g. a quota on configmaps): the namespace simply goes without, as on a real cluster.
                with contextlib.suppress(ApiError):
                    self.loop.registry.create(rt, clone(obj), key, INTERNAL)


class GarbageCollector(Controller):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is None and old is not None:
            self.enqueue(("owner", old["metadata"].get("uid", "")))
            # A dependent is gone: an owner waiting in the foreground may be done.
            for ref in old["metadata"].get("ownerReferences") or []:
                owner = self.loop.store.by_uid(ref.get("uid", ""))
                if owner is not None and FOREGROUND in (owner["metadata"].get("finalizers") or []):
                    self.enqueue(("foreground", ref["uid"]))
        elif new is not None and FOREGROUND in (new["metadata"].get("finalizers") or []):
            self.enqueue(("foreground", new["metadata"]["uid"]))

    def resync(self) -> None:
        for rt in r.stored():
            for obj in self.loop.store.iter(rt):
                if FOREGROUND in (obj["metadata"].get("finalizers") or []):
                    self.enqueue(("foreground", obj["metadata"]["uid"]))
                for ref in obj["metadata"].get("ownerReferences") or []:
                    if self.loop.store.by_uid(ref.get("uid", "")) is None:
                        self.enqueue(("owner", ref.get("uid", "")))

    def sync(self, key: Any) -> None:
        mode, uid = key
        if mode == "owner":
            self._collect(uid)
        else:
            self._foreground(uid)

    def _collect(self, owner_uid: str) -> None:
        """Delete (or detach) the dependents of an owner that no longer exists."""
        if self.loop.store.by_uid(owner_uid) is not None:
            return
        for ref in self.loop.store.dependents(owner_uid):
            dependent = self.loop.store.resolve(ref)
            if dependent is None:
                continue
            rt = r.by_key(ref[0])
            others = [
                o
                for o in dependent["metadata"].get("ownerReferences") or []
                if o.get("uid") != owner_uid and self.loop.store.by_uid(o.get("uid", "")) is not None
            ]
            if others:
                self.loop.edit(
                    rt, dependent, lambda new, keep=others: new["metadata"].__setitem__("ownerReferences", keep)
                )
                continue
            with contextlib.suppress(ApiError):  # already gone
                self.loop.registry.delete(rt, ref[1], ref[2])

    def _foreground(self, owner_uid: str) -> None:
        owner = self.loop.store.by_uid(owner_uid)
        if owner is None or FOREGROUND not in (owner["metadata"].get("finalizers") or []):
            return
        for ref in self.loop.store.dependents(owner_uid):
            dependent = self.loop.store.resolve(ref)
            if dependent is not None and not dependent["metadata"].get("deletionTimestamp"):
                with contextlib.suppress(ApiError):  # already gone
                    self.loop.registry.delete(r.by_key(ref[0]), ref[1], ref[2], propagation="Foreground")
        if self.loop.store.dependents(owner_uid):
            return
        rt = next(t for t in r.stored() if t.kind == owner["kind"] and t.api_version == owner["apiVersion"])
        finalizers = [f for f in owner["metadata"].get("finalizers") or [] if f != FOREGROUND]
        meta = owner["metadata"]
        if finalizers:
            self.loop.edit(rt, owner, lambda new: new["metadata"].__setitem__("finalizers", finalizers))
        else:
            self.loop.store.remove(rt, meta.get("namespace", "") if rt.namespaced else "", meta["name"])


class VolumeBinder(Controller):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is not r.PVCS:
            return
        if new is not None:
            self.enqueue((new["metadata"]["namespace"], new["metadata"]["name"]))
        elif old is not None and old["spec"].get("volumeName"):
            volume = self.loop.store.get(r.PVS, "", old["spec"]["volumeName"])
            if volume is not None and volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
                self.loop.store.remove(r.PVS, "", old["spec"]["volumeName"])

    def resync(self) -> None:
        for pvc in self.loop.store.iter(r.PVCS):
            self.enqueue((pvc["metadata"]["namespace"], pvc["metadata"]["name"]))

    def sync(self, key: Any) -> None:
        pvc = self.loop.store.get(r.PVCS, *key)
        if pvc is None or pvc["metadata"].get("deletionTimestamp"):
            return
        spec = pvc["spec"]
        wanted = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        status = pvc.get("status") or {}
        if status.get("phase") == "Bound":
            if (status.get("capacity") or {}).get("storage") != wanted:
                self._resize(pvc, wanted)
            return
        volume_name = spec.get("volumeName") or f"pvc-{pvc['metadata']['uid']}"
        if self.loop.store.get(r.PVS, "", volume_name) is None:
            self._provision(pvc, volume_name, wanted)

        def bind(new: dict[str, Any]) -> None:
            new["spec"]["volumeName"] = volume_name
            annotations = new["metadata"].setdefault("annotations", {})
            annotations["pv.kubernetes.io/bind-completed"] = "yes"
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
            annotations["volume.kubernetes.io/storage-provisioner"] = PROVISIONER
            new["status"] = {
                "phase": "Bound",
                "accessModes": list(spec.get("accessModes") or []),
                "capacity": {"storage": wanted},
            }

        self.loop.edit(r.PVCS, pvc, bind)

    def _provision(self, pvc: dict[str, Any], name: str, size: str) -> None:
        spec = pvc["spec"]
        volume: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": list(spec.get("accessModes") or []),
                "persistentVolumeReclaimPolicy": "Delete",
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "hostPath": {"path": f"/var/lib/paas-emulator/{name}", "type": ""},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": pvc["metadata"]["namespace"],
                    "name": pvc["metadata"]["name"],
                    "uid": pvc["metadata"]["uid"],
                },
            },
        }
        if spec.get("storageClassName"):
            volume["spec"]["storageClassName"] = spec["storageClassName"]
        created = self.loop.registry.create(r.PVS, volume, "", INTERNAL)
        self.loop.set_status(r.PVS, created, {"phase": "Bound"})

    def _resize(self, pvc: dict[str, Any], size: str) -> None:
        self.loop.edit(r.PVCS, pvc, lambda new: new["status"].setdefault("capacity", {}).__setitem__("storage", size))
        volume = self.loop.store.get(r.PVS, "", pvc["spec"].get("volumeName", ""))
        if volume is not None:
            self.loop.edit(r.PVS, volume, lambda new: new["spec"]["capacity"].__setitem__("storage", size))


class QuotaController(Controller):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if not rt.namespaced or rt is r.EVENTS:
            return
        obj = new if new is not None else old
        assert obj is not None
        namespace = obj["metadata"].get("namespace", "")
        if rt is r.QUOTAS or self.loop.store.count(r.QUOTAS, namespace):
            self.enqueue(namespace)

    def resync(self) -> None:
        for namespace in self.loop.store.namespaces_holding(r.QUOTAS):
            self.enqueue(namespace)

    def sync(self, key: Any) -> None:
        for quota in self.loop.store.list(r.QUOTAS, key):
            hard = (quota.get("spec") or {}).get("hard") or {}
            used = self.loop.registry.admission.usage(key, set(hard))
            status = {"hard": clone(hard), "used": format_usage(used, hard)}
            self.loop.set_status(r.QUOTAS, quota, status)
