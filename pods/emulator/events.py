"""Core v1 Events, recorded the way the controllers and the kubelet of a real cluster record them.

Repeats of the same event (same object, reason, message, type and source) are aggregated into
one Event whose ``count`` grows and ``lastTimestamp`` moves. Events older than ``TTL_SECONDS``
are pruned, as the API server's event TTL does. Nothing is recorded in a namespace that does
not exist or is being deleted.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from . import resources as r
from .meta import new_uid, parse_rfc3339, rfc3339
from .resources import ResourceType
from .store import Store

TTL_SECONDS = 3600
NORMAL, WARNING = "Normal", "Warning"


class EventRecorder:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self._names: dict[tuple[str, ...], str] = {}
        self._sequence = itertools.count()

    def record(
        self,
        involved: Mapping[str, Any],
        rt: ResourceType,
        event_type: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str = "",
    ) -> None:
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        ns = self.store.get(r.NAMESPACES, "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        now = self.clock()
        key = (namespace, meta.get("uid", ""), reason, message, event_type, component)
        existing_name = self._names.get(key)
        existing = self.store.get(r.EVENTS, namespace, existing_name) if existing_name else None
        if existing is not None:
            updated = {**existing, "count": existing.get("count", 1) + 1, "lastTimestamp": rfc3339(now)}
            updated["metadata"] = dict(existing["metadata"])
            self.store.put(r.EVENTS, updated)
            return
        # The name scheme of client-go's recorder: <object>.<hex timestamp>.
        name = f"{meta['name']}.{int(now * 1e9) + next(self._sequence):x}"
        source = {"component": component, **({"host": host} if host else {})}
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace, "uid": new_uid(), "creationTimestamp": rfc3339(now)},
            "involvedObject": {
                "apiVersion": rt.api_version,
                "kind": rt.kind,
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": rfc3339(now),
            "lastTimestamp": rfc3339(now),
            "count": 1,
            "type": event_type,
            "reportingComponent": component,
            "reportingInstance": host or component,
        }
        if not event["involvedObject"]["namespace"]:
            del event["involvedObject"]["namespace"]
        self.store.put(r.EVENTS, event)
        self._names[key] = name

    def prune(self) -> None:
        """Delete events whose last occurrence is older than the TTL."""
        horizon = self.clock() - TTL_SECONDS
        for event in list(self.store.iter(r.EVENTS)):
            last = event.get("lastTimestamp") or event["metadata"].get("creationTimestamp")
            if last and parse_rfc3339(last) < horizon:
                self.store.remove(r.EVENTS, event["metadata"]["namespace"], event["metadata"]["name"])

    def forget(self) -> None:
        self._names.clear()
