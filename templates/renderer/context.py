"""What every object of one instance is rendered from: its blueprint, namespace, names, labels and
sizes, and whether it runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..resources import Allocation
from ..types import Blueprint


@dataclass(frozen=True)
class InstanceContext:
    blueprint: Blueprint
    namespace: str
    base: str
    fqdn: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    allocation: Allocation
    # 1 while the app runs; 0 when it is stopped (volumes and Secrets stay, pods go).
    replicas: int

    def name(self, suffix: str) -> str:
        return f"{self.base}-{suffix}"

    def selector(self, component: str) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": self.blueprint.key,
            "app.kubernetes.io/instance": self.base,
            "app.kubernetes.io/component": component,
        }

    def meta(self, name: str, component: str | None = None) -> dict:
        labels = dict(self.labels)
        if component:
            labels["app.kubernetes.io/component"] = component
        return {"name": name, "namespace": self.namespace, "labels": labels, "annotations": dict(self.annotations)}
