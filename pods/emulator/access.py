"""Answers to SelfSubjectAccessReviews: everything is allowed unless a deny rule matches.

Rules are set through the emulator's control API (``Emulator.deny``) to test how a client
behaves without a permission; they do not restrict the emulator's own API.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Denial:
    verb: str
    resource: str
    group: str = ""
    namespace: str | None = None

    def matches(self, attrs: dict[str, Any]) -> bool:
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource = f"{resource}/{attrs['subresource']}"
        return (
            self.verb in ("*", attrs.get("verb", ""))
            and self.resource in ("*", resource)
            and self.group in ("*", attrs.get("group", ""))
            and (self.namespace is None or self.namespace == attrs.get("namespace", ""))
        )


class AccessRules:
    def __init__(self) -> None:
        self._denials: list[Denial] = []
        self._lock = threading.Lock()

    def deny(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> Denial:
        denial = Denial(verb, resource, group, namespace)
        with self._lock:
            self._denials.append(denial)
        return denial

    def clear(self) -> None:
        with self._lock:
            self._denials.clear()

    def denials(self) -> list[Denial]:
        with self._lock:
            return list(self._denials)

    def review(self, review: dict[str, Any]) -> dict[str, Any]:
        """Fill ``status`` of a SelfSubjectAccessReview body."""
        spec = review.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        status: dict[str, Any] = {"allowed": True}
        if attrs is not None:
            denial = next((d for d in self.denials() if d.matches(attrs)), None)
            if denial is not None:
                where = f" in namespace {attrs.get('namespace')}" if attrs.get("namespace") else ""
                group = f" in API group {attrs.get('group')!r}" if attrs.get("group") else ""
                what = f"{attrs.get('verb')} {attrs.get('resource')}{group}{where}"
                status = {"allowed": False, "denied": True, "reason": f"denied by an emulator access rule: {what}"}
        return {**review, "status": status}
