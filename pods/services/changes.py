"""The writes that bring a namespace from what it holds to what an instance needs.

Rules that keep customers' data safe:
- a Secret that exists is never rewritten (a new password or n8n key would lock the app out of
  its own data); neither is a volume, except to grow it with a bigger plan;
- a StatefulSet's ``volumeClaimTemplates`` are immutable, so we keep the live ones and grow the
  claims they made instead;
- a deleted instance loses its workloads, Services and policies at once; its Secrets and volumes
  stay until the retention window ends (``purge``).
Only objects labelled with the instance's id are ever deleted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from pods.cluster import RESTARTED_AT, Cluster, object_matches, rfc3339
from pods.models import ServiceInstance
from pods.quantity import QuantityError, parse_quantity

from .desired import Desired
from .observe import Observed

DesiredState = ServiceInstance.DesiredState

# What an instance's delete removes, in this order: workloads (and their pods), then its routes.
# Its Secrets and volumes are not in the list: they stay until the retention window ends.
DELETE_ORDER = ("Deployment", "StatefulSet", "Ingress", "Service", "NetworkPolicy")


@dataclass(frozen=True)
class Change:
    """One write. ``why`` is what the history says about it; ``best_effort`` changes (growing a
    volume the storage class may not let grow) are reported but never fail the instance."""

    verb: str  # "apply", "delete", or "replace" (delete, then apply: for an immutable Secret)
    kind: str
    name: str
    namespace: str | None
    why: str
    manifest: dict | None = None
    best_effort: bool = False

    def run(self, cluster: Cluster) -> None:
        if self.verb in ("delete", "replace"):
            cluster.delete(self.kind, self.name, self.namespace)
        if self.verb in ("apply", "replace"):
            cluster.apply(self.manifest)

    @property
    def is_drift(self) -> bool:
        return self.why in {"Recreated", "Restored"}


def _storage(obj: dict) -> int:
    value = ((obj.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0")
    try:
        return int(parse_quantity(value))
    except QuantityError:
        return 0


def _apply(manifest: dict, why: str, *, best_effort: bool = False) -> Change:
    meta = manifest["metadata"]
    return Change("apply", manifest["kind"], meta["name"], meta.get("namespace"), why, manifest, best_effort)


def _delete(obj: dict, why: str) -> Change:
    meta = obj["metadata"]
    return Change("delete", obj["kind"], meta["name"], meta.get("namespace"), why)


def _claims_of(statefulset: dict) -> list[tuple[str, dict]]:
    """(claim name, template) of the claims a one-replica StatefulSet made (``<tpl>-<sts>-0``)."""
    name = statefulset["metadata"]["name"]
    return [(f"{t['metadata']['name']}-{name}-0", t) for t in statefulset["spec"].get("volumeClaimTemplates", [])]


def _claim_growth(claim: dict, template: dict) -> dict:
    """A partial PVC: only the bigger storage request, which is all that may change on a claim."""
    meta = claim["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        "spec": {"resources": {"requests": {"storage": template["spec"]["resources"]["requests"]["storage"]}}},
    }


def _secret_completed(manifest: dict, live: dict) -> dict | None:
    """A Secret that lacks keys the instance now needs, with them added: the values it holds stay
    as they are (a changed password or key would lock the app out of its data)."""
    have = live.get("data") or {}
    missing = {k: v for k, v in manifest.get("data", {}).items() if k not in have}
    if not missing:
        return None
    return {**manifest, "data": {**manifest["data"], **have}}


def _growth(instance: ServiceInstance, manifest: dict, live: dict) -> Change | None:
    """Growing a volume, unless the cluster already refused to grow it to this size."""
    wanted = manifest["spec"]["resources"]["requests"]["storage"]
    if _storage(manifest) <= _storage(live) or instance.expansion_refused.get(manifest["metadata"]["name"]) == wanted:
        return None
    return _apply(manifest, "Expanded", best_effort=True)


def _manifest_changes(instance: ServiceInstance, desired: Desired, observed: Observed) -> list[Change]:
    changes = []
    applied_before = instance.observed_generation > 0
    drift_only = instance.observed_generation == instance.generation
    own = {(m["kind"], m["metadata"]["name"]) for m in desired.instance_objects}
    for manifest in desired.manifests:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        live = observed.get(kind, name)
        if live is None:
            changes.append(_apply(manifest, "Recreated" if applied_before else "Created"))
        elif kind == "Secret":
            completed = _secret_completed(manifest, live)
            if completed is not None and live.get("immutable"):
                # An immutable Secret cannot take a key: made again, with every value it held.
                changes.append(Change("replace", kind, name, manifest["metadata"]["namespace"], "Replaced", completed))
            elif completed is not None:
                changes.append(_apply(completed, "Updated"))
        elif kind == "PersistentVolumeClaim":
            changes.append(_growth(instance, manifest, live))
        else:
            if kind == "StatefulSet":
                manifest = copy.deepcopy(manifest)
                manifest["spec"]["volumeClaimTemplates"] = live["spec"].get("volumeClaimTemplates", [])
            if not object_matches(manifest, live):
                # Namespace-wide objects change with the neighbours (a quota grows with a new app):
                # only the instance's own objects can have been changed behind our back.
                changes.append(_apply(manifest, "Restored" if drift_only and (kind, name) in own else "Updated"))
    return [c for c in changes if c is not None]


def _claim_changes(instance: ServiceInstance, desired: Desired, observed: Observed) -> list[Change]:
    changes = []
    for sts in (m for m in desired.instance_objects if m["kind"] == "StatefulSet"):
        for claim_name, template in _claims_of(sts):
            claim = observed.get("PersistentVolumeClaim", claim_name)
            if claim is not None:
                changes.append(_growth(instance, _claim_growth(claim, template), claim))
    return [c for c in changes if c is not None]


def _removals(instance: ServiceInstance, desired: Desired, observed: Observed) -> list[Change]:
    wanted = {(m["kind"], m["metadata"]["name"]) for m in desired.instance_objects}
    mine = [
        obj
        for obj in observed.of_instance(instance.pk, DELETE_ORDER)
        if (obj["kind"], obj["metadata"]["name"]) not in wanted
    ]
    why = "Deleted" if instance.desired_state == DesiredState.DELETED else "Removed"
    return [_delete(obj, why) for obj in sorted(mine, key=lambda o: DELETE_ORDER.index(o["kind"]))]


def changes_needed(instance: ServiceInstance, desired: Desired, observed: Observed) -> list[Change]:
    """Every write, in order, that makes ``observed`` what ``desired`` says; none when they agree."""
    removals = _removals(instance, desired, observed)
    applies = _manifest_changes(instance, desired, observed) + _claim_changes(instance, desired, observed)
    if instance.desired_state == DesiredState.DELETED:
        # Workloads go first; the quota shrinks after them.
        return removals + applies
    return applies + removals


def restart_due(instance: ServiceInstance, observed: Observed, changes: list[Change]) -> dict | None:
    """The app's Deployment, when a restart was asked for and has not been made yet."""
    if instance.restart_requested_at is None or instance.desired_state != DesiredState.RUNNING:
        return None
    deployment = next(iter(observed.of_instance(instance.pk, ("Deployment",))), None)
    if deployment is None or any(c.kind == "Deployment" and c.why in {"Created", "Recreated"} for c in changes):
        return None  # a fresh Deployment has fresh pods
    annotations = (deployment["spec"]["template"].get("metadata") or {}).get("annotations") or {}
    return None if annotations.get(RESTARTED_AT) == rfc3339(instance.restart_requested_at) else deployment
