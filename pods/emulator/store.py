"""The object store: every persisted object by resource, namespace and name.

Like etcd behind a real API server it knows nothing of validation or defaults; it assigns
``resourceVersion`` from one cluster-wide counter and keeps the indexes the handlers and
controllers need to stay proportional to what they touch (objects per namespace, dependents per
owner uid). It is not thread-safe by itself: the ``Emulator`` serialises access with its lock.

Stored objects are never mutated in place: ``put`` stores the dict it is given, and callers
that change an object work on a ``clone``. Listeners see every change as ``(resource, old, new)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import resources
from .resources import ResourceType

Listener = Callable[[ResourceType, "dict[str, Any] | None", "dict[str, Any] | None"], None]
ObjectRef = tuple[str, str, str]  # (resource key, namespace, name)


class Store:
    def __init__(self) -> None:
        self._objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = {rt.key: {} for rt in resources.stored()}
        self._dependents: dict[str, set[ObjectRef]] = {}
        self._uids: dict[str, ObjectRef] = {}
        self._revision = 0
        self._listeners: list[Listener] = []

    # --- versions -------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The latest resourceVersion handed out (what a list reports)."""
        return self._revision

    def next_revision(self) -> str:
        self._revision += 1
        return str(self._revision)

    # --- reads ----------------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects[rt.key].get(namespace, {}).get(name)

    def list(self, rt: ResourceType, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects in key order (namespace, then name), as etcd returns them."""
        buckets = self._objects[rt.key]
        if namespace is not None:
            bucket = buckets.get(namespace, {})
            return [bucket[name] for name in sorted(bucket)]
        return [buckets[ns][name] for ns in sorted(buckets) for name in sorted(buckets[ns])]

    def iter(self, rt: ResourceType, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects in no particular order: cheaper than ``list`` when order does not matter."""
        buckets = self._objects[rt.key]
        if namespace is not None:
            yield from list(buckets.get(namespace, {}).values())
            return
        for bucket in list(buckets.values()):
            yield from list(bucket.values())

    def count(self, rt: ResourceType, namespace: str) -> int:
        return len(self._objects[rt.key].get(namespace, {}))

    def namespaces_holding(self, rt: ResourceType) -> list[str]:
        return [ns for ns, bucket in self._objects[rt.key].items() if bucket]

    def dependents(self, owner_uid: str) -> list[ObjectRef]:
        return sorted(self._dependents.get(owner_uid, ()))

    def by_uid(self, uid: str) -> dict[str, Any] | None:
        ref = self._uids.get(uid)
        return self.resolve(ref) if ref else None

    def resolve(self, ref: ObjectRef) -> dict[str, Any] | None:
        key, namespace, name = ref
        return self._objects[key].get(namespace, {}).get(name)

    # --- writes ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def put(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` (create or replace) under a new resourceVersion and return it."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "") if rt.namespaced else ""
        bucket = self._objects[rt.key].setdefault(namespace, {})
        old = bucket.get(meta["name"])
        meta["resourceVersion"] = self.next_revision()
        bucket[meta["name"]] = obj
        self._index(rt, old, obj)
        for listener in self._listeners:
            listener(rt, old, obj)
        return obj

    def remove(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        bucket = self._objects[rt.key].get(namespace, {})
        old = bucket.pop(name, None)
        if old is None:
            return None
        if not bucket:
            self._objects[rt.key].pop(namespace, None)
        self._revision += 1
        self._index(rt, old, None)
        for listener in self._listeners:
            listener(rt, old, None)
        return old

    def clear(self) -> None:
        self._objects = {rt.key: {} for rt in resources.stored()}
        self._dependents.clear()
        self._uids.clear()

    def _index(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        for obj, add in ((old, False), (new, True)):
            if obj is None:
                continue
            meta = obj["metadata"]
            ref = (rt.key, meta.get("namespace", "") if rt.namespaced else "", meta["name"])
            uid = meta.get("uid")
            if uid:
                if add:
                    self._uids[uid] = ref
                elif self._uids.get(uid) == ref:
                    del self._uids[uid]
            for owner in meta.get("ownerReferences") or []:
                uid = owner.get("uid")
                if not uid:
                    continue
                if add:
                    self._dependents.setdefault(uid, set()).add(ref)
                else:
                    deps = self._dependents.get(uid)
                    if deps is not None:
                        deps.discard(ref)
                        if not deps:
                            del self._dependents[uid]

    # --- snapshots ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything stored, as one JSON-able document (see ``restore``)."""
        return {
            "resourceVersion": self._revision,
            "objects": {
                key: [obj for bucket in by_ns.values() for obj in bucket.values()]
                for key, by_ns in self._objects.items()
            },
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace the contents with a ``snapshot()``; listeners are not told (nothing changed for them)."""
        self.clear()
        for key, objs in snapshot.get("objects", {}).items():
            try:
                rt = resources.by_key(key)
            except KeyError:
                continue
            for obj in objs:
                namespace = obj["metadata"].get("namespace", "") if rt.namespaced else ""
                self._objects[rt.key].setdefault(namespace, {})[obj["metadata"]["name"]] = obj
                self._index(rt, None, obj)
        self._revision = int(snapshot.get("resourceVersion", 0))
