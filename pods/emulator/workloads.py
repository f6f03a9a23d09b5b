"""The workload controllers: Deployments (through ReplicaSets, as on a real cluster) and StatefulSets.

Deployment: one ReplicaSet per pod-template revision, named ``<deployment>-<template hash>``
with the ``pod-template-hash`` label, owning pods named ``<replicaset>-<5 chars>``. A template
change (a rollout restart changes the ``kubectl.kubernetes.io/restartedAt`` annotation) makes
a new ReplicaSet: with ``Recreate`` the old pods go first and the new ones are created once they
are gone; with ``RollingUpdate`` the new ReplicaSet is scaled up at once and the old ones down as
new pods become available. Status carries ``observedGeneration``, the replica counts and the
``Available``/``Progressing``/``ReplicaFailure`` conditions, including ``ProgressDeadlineExceeded``.

StatefulSet: pods ``<sts>-<ordinal>``, one at a time in order (``OrderedReady``) or all at once
(``Parallel``), each preceded by its claims ``<template>-<sts>-<ordinal>`` from
``volumeClaimTemplates``, which outlive the StatefulSet unless its retention policy says Delete.
Rolling updates replace pods from the highest ordinal down (respecting ``partition``).

Pods and claims are created through the registry, so admission applies: a quota refusal becomes a
``FailedCreate`` event (and a ``ReplicaFailure`` condition on ReplicaSets and Deployments), and
the controller retries when something in the namespace frees room, or every ``RETRY_SECONDS``.
"""

from __future__ import annotations

import math
from typing import Any

from . import resources as r
from .errors import ApiError
from .events import NORMAL, WARNING
from .loop import Controller, ControlLoop
from .meta import clone, controller_uid, owner_reference, parse_rfc3339, random_suffix, rfc3339, template_hash
from .quota import is_terminal
from .registry import INTERNAL
from .resources import ResourceType

RETRY_SECONDS = 10.0
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
STS_REVISION_LABEL = "controller-revision-hash"


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _active(pod: dict[str, Any]) -> bool:
    return not is_terminal(pod) and not pod["metadata"].get("deletionTimestamp")


def _owned(loop: ControlLoop, rt: ResourceType, owner: dict[str, Any]) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    found = []
    for ref in loop.store.dependents(uid):
        if ref[0] != rt.key:
            continue
        obj = loop.store.resolve(ref)
        if obj is not None and controller_uid(obj) == uid:
            found.append(obj)
    return found


def _owner_key(obj: dict[str, Any], kind: str) -> tuple[str, str] | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == kind:
            return obj["metadata"].get("namespace", ""), ref["name"]
    return None


def _omit_zero(status: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if not status.get(key):
            status.pop(key, None)


def _condition(
    kind: str, status: bool, reason: str, message: str, now: str, previous: list[dict[str, Any]]
) -> dict[str, Any]:
    """A workload condition; times kept from the previous one when nothing about it changed."""
    new = {
        "type": kind,
        "status": "True" if status else "False",
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
    old = next((c for c in previous if c.get("type") == kind), None)
    if old is not None and old.get("status") == new["status"]:
        new["lastTransitionTime"] = old.get("lastTransitionTime", now)
        if old.get("reason") == reason and old.get("message") == message:
            new["lastUpdateTime"] = old.get("lastUpdateTime", now)
    return new


class _Blocking(Controller):
    """A controller whose creates admission can refuse. After a refusal it does not try again
    for ``RETRY_SECONDS``, unless something in the namespace frees room first (like the
    rate-limited retries of the real controllers, which keeps the FailedCreate events few)."""

    def __init__(self, loop: ControlLoop) -> None:
        super().__init__(loop)
        self._blocked: dict[str, dict[tuple[str, str], float]] = {}

    def may_create(self, key: tuple[str, str]) -> bool:
        until = self._blocked.get(key[0], {}).get(key)
        return until is None or self.loop.now() >= until

    def block(self, key: tuple[str, str]) -> None:
        until = self.loop.now() + RETRY_SECONDS
        self._blocked.setdefault(key[0], {})[key] = until
        self.loop.schedule(self, key, until)

    def unblock(self, key: tuple[str, str]) -> None:
        keys = self._blocked.get(key[0])
        if keys:
            keys.pop(key, None)

    def wake(self, namespace: str) -> None:
        for key in sorted(self._blocked.pop(namespace, {})):
            self.enqueue(key)

    def watch_room(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Room may have been freed in a namespace: retry what was refused there."""
        obj = new if new is not None else old
        if obj is None or not self._blocked:
            return
        namespace = obj["metadata"].get("namespace", "")
        limits_changed = rt in (r.QUOTAS, r.LIMITRANGES) and (old or {}).get("spec") != (new or {}).get("spec")
        freed = new is None and rt in (r.PODS, r.PVCS, r.SERVICES)
        finished = rt is r.PODS and new is not None and is_terminal(new) and not (old is not None and is_terminal(old))
        if limits_changed or freed or finished:
            self.wake(namespace)

    def reset(self) -> None:
        super().reset()
        self._blocked.clear()


def _changed_beyond_status(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Whether a change concerns the object's spec or metadata (its own status writes do not)."""
    if old is None or new is None:
        return True
    return old.get("spec") != new.get("spec") or old["metadata"] != new["metadata"]


# --- ReplicaSets ----------------------------------------------------------------------------


class ReplicaSetController(_Blocking):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.REPLICASETS and new is not None and _changed_beyond_status(old, new):
            self.enqueue((new["metadata"]["namespace"], new["metadata"]["name"]))
        elif rt is r.PODS:
            key = _owner_key(new if new is not None else old, "ReplicaSet")  # type: ignore[arg-type]
            if key:
                self.enqueue(key)
        self.watch_room(rt, old, new)

    def resync(self) -> None:
        for rs in self.loop.store.iter(r.REPLICASETS):
            self.enqueue((rs["metadata"]["namespace"], rs["metadata"]["name"]))

    def sync(self, key: Any) -> None:
        rs = self.loop.store.get(r.REPLICASETS, *key)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            self.unblock(key)
            return
        pods = [p for p in _owned(self.loop, r.PODS, rs) if _active(p)]
        desired = rs["spec"].get("replicas", 1)
        failure: ApiError | None = None
        have = len(pods)
        if have < desired and self.may_create(key):
            for _ in range(desired - have):
                try:
                    pod = self.loop.registry.create(r.PODS, self._pod(rs), key[0], INTERNAL)
                except ApiError as exc:
                    failure = exc
                    break
                have += 1
                self._event(rs, NORMAL, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")
        elif len(pods) > desired:
            for pod in sorted(pods, key=_deletion_rank)[: len(pods) - desired]:
                self.loop.registry.delete(r.PODS, key[0], pod["metadata"]["name"])
                self._event(rs, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
        if failure is not None:
            self._event(rs, WARNING, "FailedCreate", f"Error creating: {failure.message}")
            self.block(key)
        elif have >= desired:
            self.unblock(key)
        self._status(rs, failure)

    def _event(self, rs: dict[str, Any], kind: str, reason: str, message: str) -> None:
        self.loop.events.record(rs, r.REPLICASETS, kind, reason, message, component="replicaset-controller")

    def _pod(self, rs: dict[str, Any]) -> dict[str, Any]:
        template = rs["spec"].get("template") or {}
        tmeta = template.get("metadata") or {}
        name = rs["metadata"]["name"]
        meta: dict[str, Any] = {
            "name": f"{name}-{random_suffix(self.loop.rng)}",
            "generateName": f"{name}-",
            "namespace": rs["metadata"]["namespace"],
            "labels": clone(tmeta.get("labels") or {}),
            "ownerReferences": [owner_reference(rs, r.REPLICASETS)],
        }
        if tmeta.get("annotations"):
            meta["annotations"] = clone(tmeta["annotations"])
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": clone(template.get("spec") or {})}

    def _status(self, rs: dict[str, Any], failure: ApiError | None) -> None:
        current = self.loop.store.get(r.REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
        if current is None:
            return
        pods = [p for p in _owned(self.loop, r.PODS, current) if _active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        previous = (current.get("status") or {}).get("conditions") or []
        now = rfc3339(self.loop.now())
        status: dict[str, Any] = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": current["metadata"].get("generation", 1),
        }
        _omit_zero(status, "fullyLabeledReplicas", "readyReplicas", "availableReplicas")
        desired = current["spec"].get("replicas", 1)
        if failure is not None:
            status["conditions"] = [_condition("ReplicaFailure", True, "FailedCreate", failure.message, now, previous)]
        elif len(pods) < desired and previous:
            status["conditions"] = previous  # still short: the last refusal still explains why
        self.loop.set_status(r.REPLICASETS, current, status)


def _deletion_rank(pod: dict[str, Any]) -> tuple[int, int, str]:
    """Which pods a ReplicaSet removes first: unscheduled, then not running, then not ready, newest."""
    unscheduled = 0 if not pod["spec"].get("nodeName") else 1
    running = 1 if (pod.get("status") or {}).get("phase") == "Running" else 0
    ready = 1 if pod_ready(pod) else 0
    created = pod["metadata"].get("creationTimestamp", "")
    return (unscheduled, running * 2 + ready, "".join(chr(255 - ord(c)) for c in created))


# --- Deployments ----------------------------------------------------------------------------


def _resolve_int_or_percent(value: Any, total: int, *, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        share = total * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return 0


class DeploymentController(Controller):
    def __init__(self, loop: ControlLoop) -> None:
        super().__init__(loop)
        # (uid, generation, collisionCount) -> pod-template-hash: the template only changes with the generation.
        self._hashes: dict[tuple[str, int, int], str] = {}
        # When each rollout's progress deadline timer is set to fire (one timer per deadline).
        self._deadlines: dict[tuple[str, str], float] = {}

    def _hash(self, d: dict[str, Any]) -> str:
        collisions = (d.get("status") or {}).get("collisionCount", 0)
        key = (d["metadata"]["uid"], d["metadata"].get("generation", 0), collisions)
        cached = self._hashes.get(key)
        if cached is None:
            if len(self._hashes) > 100_000:
                self._hashes.clear()
            cached = self._hashes[key] = template_hash(d["spec"].get("template") or {}, collisions)
        return cached

    def reset(self) -> None:
        super().reset()
        self._hashes.clear()
        self._deadlines.clear()

    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.DEPLOYMENTS and new is not None and _changed_beyond_status(old, new):
            self.enqueue((new["metadata"]["namespace"], new["metadata"]["name"]))
        elif rt is r.REPLICASETS:
            key = _owner_key(new if new is not None else old, "Deployment")  # type: ignore[arg-type]
            if key:
                self.enqueue(key)

    def resync(self) -> None:
        for d in self.loop.store.iter(r.DEPLOYMENTS):
            self.enqueue((d["metadata"]["namespace"], d["metadata"]["name"]))

    def sync(self, key: Any) -> None:
        d = self.loop.store.get(r.DEPLOYMENTS, *key)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d["spec"]
        sets = _owned(self.loop, r.REPLICASETS, d)
        pod_hash = self._hash(d)
        new_rs = next((rs for rs in sets if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == pod_hash), None)
        old_sets = [rs for rs in sets if rs is not new_rs]
        desired = spec.get("replicas", 1)
        if not spec.get("paused"):
            recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
            old_pods = any(_active(p) for rs in old_sets for p in _owned(self.loop, r.PODS, rs))
            if new_rs is None:
                initial = 0 if recreate and old_pods else desired
                new_rs = self._create_replicaset(d, pod_hash, _next_revision(sets), initial)
            elif old_sets and _revision(new_rs) < max(_revision(rs) for rs in old_sets):
                # Rolled back to an earlier template: that ReplicaSet becomes the newest revision.
                new_rs = self.loop.edit(
                    r.REPLICASETS,
                    new_rs,
                    lambda n: (
                        n["metadata"].setdefault("annotations", {}).__setitem__(REVISION, str(_next_revision(sets)))
                    ),
                )
            if new_rs is not None:
                if recreate:
                    for rs in old_sets:
                        self._scale(d, rs, 0)
                    self._scale(d, new_rs, 0 if old_pods else desired)
                else:
                    self._scale(d, new_rs, desired)
                    available = (new_rs.get("status") or {}).get("availableReplicas", 0)
                    room = max(0, desired - available)
                    for rs in sorted(old_sets, key=_revision, reverse=True):
                        keep = min(rs["spec"].get("replicas", 0), room)
                        room -= keep
                        self._scale(d, rs, keep)
                self._cleanup(d, old_sets)
        self._status(key)

    def _event(self, d: dict[str, Any], kind: str, reason: str, message: str) -> None:
        self.loop.events.record(d, r.DEPLOYMENTS, kind, reason, message, component="deployment-controller")

    def _create_replicaset(
        self, d: dict[str, Any], pod_hash: str, revision: int, replicas: int
    ) -> dict[str, Any] | None:
        spec = d["spec"]
        template = clone(spec.get("template") or {})
        tmeta = template.setdefault("metadata", {})
        tmeta.setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = clone(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        surge = _resolve_int_or_percent(
            ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge"),
            spec.get("replicas", 1),
            round_up=True,
        )
        name = f"{d['metadata']['name']}-{pod_hash}"
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": d["metadata"]["namespace"],
                "labels": clone(tmeta["labels"]),
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 1)),
                    "deployment.kubernetes.io/max-replicas": str(spec.get("replicas", 1) + surge),
                    REVISION: str(revision),
                },
                "ownerReferences": [owner_reference(d, r.DEPLOYMENTS)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
        }
        if spec.get("minReadySeconds"):
            rs["spec"]["minReadySeconds"] = spec["minReadySeconds"]
        try:
            created = self.loop.registry.create(r.REPLICASETS, rs, d["metadata"]["namespace"], INTERNAL)
        except ApiError as exc:
            self._event(d, WARNING, "FailedCreate", f"Failed to create new replica set {name!r}: {exc.message}")
            return None
        self._event(d, NORMAL, "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {replicas}")
        return created

    def _scale(self, d: dict[str, Any], rs: dict[str, Any], replicas: int) -> None:
        current = rs["spec"].get("replicas", 0)
        if current == replicas:
            return

        def change(new: dict[str, Any]) -> None:
            new["spec"]["replicas"] = replicas
            new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(
                d["spec"].get("replicas", 1)
            )

        self.loop.edit(r.REPLICASETS, rs, change)
        direction = "up" if replicas > current else "down"
        self._event(
            d,
            NORMAL,
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {current} to {replicas}",
        )

    def _cleanup(self, d: dict[str, Any], old_sets: list[dict[str, Any]]) -> None:
        limit = d["spec"].get("revisionHistoryLimit", 10)
        idle = [
            rs for rs in old_sets if rs["spec"].get("replicas", 0) == 0 and not (rs.get("status") or {}).get("replicas")
        ]
        for rs in sorted(idle, key=_revision)[: max(0, len(idle) - limit)]:
            current = self.loop.store.get(r.REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
            if current is not None:
                self.loop.registry.delete(r.REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _status(self, key: tuple[str, str]) -> None:
        d = self.loop.store.get(r.DEPLOYMENTS, *key)
        if d is None:
            return
        spec = d["spec"]
        desired = spec.get("replicas", 1)
        sets = _owned(self.loop, r.REPLICASETS, d)
        pod_hash = self._hash(d)
        new_rs = next((rs for rs in sets if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == pod_hash), None)

        def count(rs_list: list[dict[str, Any]], field: str) -> int:
            return sum((rs.get("status") or {}).get(field, 0) for rs in rs_list)

        replicas, ready, available = (
            count(sets, "replicas"),
            count(sets, "readyReplicas"),
            count(sets, "availableReplicas"),
        )
        updated = count([new_rs], "replicas") if new_rs else 0
        strategy = spec.get("strategy") or {}
        max_unavailable = 0
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            max_unavailable = _resolve_int_or_percent(
                (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%"), desired, round_up=False
            )
        now_ts = self.loop.now()
        now = rfc3339(now_ts)
        old_status = d.get("status") or {}
        previous = old_status.get("conditions") or []
        conditions = []
        if available >= desired - max_unavailable:
            conditions.append(
                _condition(
                    "Available", True, "MinimumReplicasAvailable", "Deployment has minimum availability.", now, previous
                )
            )
        else:
            conditions.append(
                _condition(
                    "Available",
                    False,
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    now,
                    previous,
                )
            )
        rs_name = new_rs["metadata"]["name"] if new_rs else d["metadata"]["name"]
        complete = new_rs is not None and updated == desired and replicas == desired and available == desired
        counters = (replicas, updated, ready, available)
        old_counters = tuple(
            old_status.get(k, 0) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
        )
        old_progress = next((c for c in previous if c.get("type") == "Progressing"), None)
        if complete:
            progressing = _condition(
                "Progressing",
                True,
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                now,
                previous,
            )
        else:
            moved = (
                counters != old_counters
                or old_progress is None
                or old_status.get("observedGeneration") != d["metadata"].get("generation")
            )
            if not moved and old_progress is not None and old_progress.get("reason") == "ProgressDeadlineExceeded":
                progressing = old_progress  # stuck until something moves
            else:
                progressing = _condition(
                    "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.', now, previous
                )
                if moved:
                    progressing["lastUpdateTime"] = now
                deadline = parse_rfc3339(progressing["lastUpdateTime"]) + spec.get("progressDeadlineSeconds", 600)
                if now_ts >= deadline:
                    progressing = _condition(
                        "Progressing",
                        False,
                        "ProgressDeadlineExceeded",
                        f'ReplicaSet "{rs_name}" has timed out progressing.',
                        now,
                        previous,
                    )
                elif self._deadlines.get(key) != deadline:
                    self._deadlines[key] = deadline
                    self.loop.schedule(self, key, deadline)
        conditions.append(progressing)
        failure = next(
            (
                c
                for c in ((new_rs or {}).get("status") or {}).get("conditions") or []
                if c.get("type") == "ReplicaFailure"
            ),
            None,
        )
        if failure is not None:
            conditions.append(
                _condition(
                    "ReplicaFailure",
                    True,
                    failure.get("reason", "FailedCreate"),
                    failure.get("message", ""),
                    now,
                    previous,
                )
            )
        status: dict[str, Any] = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, desired - available),
            "conditions": conditions,
        }
        if old_status.get("collisionCount"):
            status["collisionCount"] = old_status["collisionCount"]
        _omit_zero(status, "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")
        self.loop.set_status(r.DEPLOYMENTS, d, status)


def _revision(rs: dict[str, Any]) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _next_revision(sets: list[dict[str, Any]]) -> int:
    return max((_revision(rs) for rs in sets), default=0) + 1


# --- StatefulSets ---------------------------------------------------------------------------


def _ordinal(sts_name: str, pod: dict[str, Any]) -> int | None:
    suffix = pod["metadata"]["name"][len(sts_name) + 1 :]
    return int(suffix) if suffix.isdigit() else None


class StatefulSetController(_Blocking):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.STATEFULSETS and new is not None and _changed_beyond_status(old, new):
            self.enqueue((new["metadata"]["namespace"], new["metadata"]["name"]))
        elif rt is r.PODS:
            key = _owner_key(new if new is not None else old, "StatefulSet")  # type: ignore[arg-type]
            if key:
                self.enqueue(key)
        self.watch_room(rt, old, new)

    def resync(self) -> None:
        for sts in self.loop.store.iter(r.STATEFULSETS):
            self.enqueue((sts["metadata"]["namespace"], sts["metadata"]["name"]))

    def sync(self, key: Any) -> None:
        sts = self.loop.store.get(r.STATEFULSETS, *key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            self.unblock(key)
            return
        spec = sts["spec"]
        name = sts["metadata"]["name"]
        revision = f"{name}-{template_hash(spec.get('template') or {})}"
        pods = {}
        for pod in _owned(self.loop, r.PODS, sts):
            ordinal = _ordinal(name, pod)
            if ordinal is not None and _active(pod):
                pods[ordinal] = pod
        replicas = spec.get("replicas", 1)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        blocked = False

        for ordinal in sorted((o for o in pods if o >= replicas), reverse=True):
            self._delete_pod(sts, pods.pop(ordinal))
            if retention.get("whenScaled") == "Delete":
                for claim in spec.get("volumeClaimTemplates") or []:
                    claim_name = f"{claim['metadata']['name']}-{name}-{ordinal}"
                    if self.loop.store.get(r.PVCS, key[0], claim_name) is not None:
                        self.loop.registry.delete(r.PVCS, key[0], claim_name)
            if not parallel:
                break

        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is None:
                if not self.may_create(key):
                    break
                created = self._create(sts, ordinal, revision)
                if created is None:
                    blocked = True
                    break
                pods[ordinal] = created
                if not parallel:
                    break
            elif not parallel and not pod_ready(pod):
                break

        if blocked:
            self.block(key)
        elif len(pods) >= replicas:
            self.unblock(key)
        strategy = spec.get("updateStrategy") or {}
        if not blocked and strategy.get("type", "RollingUpdate") == "RollingUpdate" and len(pods) == replicas:
            partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
            stale = [
                o
                for o, p in pods.items()
                if o >= partition and (p["metadata"].get("labels") or {}).get(STS_REVISION_LABEL) != revision
            ]
            if stale:
                target = max(stale)
                if parallel or all(pod_ready(p) for o, p in pods.items() if o != target):
                    self._delete_pod(sts, pods.pop(target))
        self._status(key, revision)

    def _event(self, sts: dict[str, Any], kind: str, reason: str, message: str) -> None:
        self.loop.events.record(sts, r.STATEFULSETS, kind, reason, message, component="statefulset-controller")

    def _delete_pod(self, sts: dict[str, Any], pod: dict[str, Any]) -> None:
        pod_name = pod["metadata"]["name"]
        self.loop.registry.delete(r.PODS, pod["metadata"]["namespace"], pod_name)
        self._event(
            sts,
            NORMAL,
            "SuccessfulDelete",
            f"delete Pod {pod_name} in StatefulSet {sts['metadata']['name']} successful",
        )

    def _create(self, sts: dict[str, Any], ordinal: int, revision: str) -> dict[str, Any] | None:
        spec = sts["spec"]
        namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        pod_name = f"{name}-{ordinal}"
        volumes = []
        for claim in spec.get("volumeClaimTemplates") or []:
            claim_name = f"{claim['metadata']['name']}-{name}-{ordinal}"
            volumes.append({"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}})
            if self.loop.store.get(r.PVCS, namespace, claim_name) is not None:
                continue
            labels = {
                **(claim["metadata"].get("labels") or {}),
                **((spec.get("selector") or {}).get("matchLabels") or {}),
            }
            pvc: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": namespace, "labels": labels},
                "spec": clone(claim.get("spec") or {}),
            }
            if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted") == "Delete":
                pvc["metadata"]["ownerReferences"] = [owner_reference(sts, r.STATEFULSETS)]
            try:
                self.loop.registry.create(r.PVCS, pvc, namespace, INTERNAL)
            except ApiError as exc:
                self._event(
                    sts,
                    WARNING,
                    "FailedCreate",
                    f"create Claim {claim_name} for Pod {pod_name} in StatefulSet {name} failed error: {exc.message}",
                )
                return None
            self._event(
                sts,
                NORMAL,
                "SuccessfulCreate",
                f"create Claim {claim_name} Pod {pod_name} in StatefulSet {name} success",
            )

        template = spec.get("template") or {}
        tmeta = template.get("metadata") or {}
        labels = {
            **(tmeta.get("labels") or {}),
            STS_REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        pod_spec = clone(template.get("spec") or {})
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        claimed = {v["name"] for v in volumes}
        pod_spec["volumes"] = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in claimed] + volumes
        if not pod_spec["volumes"]:
            del pod_spec["volumes"]
        meta: dict[str, Any] = {
            "name": pod_name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [owner_reference(sts, r.STATEFULSETS)],
        }
        if tmeta.get("annotations"):
            meta["annotations"] = clone(tmeta["annotations"])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
        try:
            created = self.loop.registry.create(r.PODS, pod, namespace, INTERNAL)
        except ApiError as exc:
            self._event(
                sts, WARNING, "FailedCreate", f"create Pod {pod_name} in StatefulSet {name} failed error: {exc.message}"
            )
            return None
        self._event(sts, NORMAL, "SuccessfulCreate", f"create Pod {pod_name} in StatefulSet {name} successful")
        return created

    def _status(self, key: tuple[str, str], revision: str) -> None:
        sts = self.loop.store.get(r.STATEFULSETS, *key)
        if sts is None:
            return
        pods = [p for p in _owned(self.loop, r.PODS, sts) if _active(p)]
        old = sts.get("status") or {}
        replicas = sts["spec"].get("replicas", 1)
        updated = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get(STS_REVISION_LABEL) == revision)
        current_revision = old.get("currentRevision") or revision
        if updated == replicas and len(pods) == replicas:
            current_revision = revision
        current = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get(STS_REVISION_LABEL) == current_revision
        )
        ready = sum(1 for p in pods if pod_ready(p))
        status: dict[str, Any] = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": current,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current_revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        _omit_zero(status, "readyReplicas", "currentReplicas", "updatedReplicas")
        self.loop.set_status(r.STATEFULSETS, sts, status)
