"""Is an instance's app ready, and if not, why: read from its workloads and pods as a person
would read ``kubectl describe`` (waiting reasons, scheduling, quota refusals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pods.cluster import WORKLOADS

from .observe import Observed

# Container waiting reasons that mean the app will not start by itself.
PROBLEM_REASONS = (
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
)

# Looks up the cluster's Warning events about a workload: (reason, message) of the newest, or None.
EventLookup = Callable[[str, str], tuple[str, str] | None]


@dataclass(frozen=True)
class Health:
    """``ready``: every workload has its wanted pods ready. ``idle``: no workload wants a pod
    and none is left. ``gone``: no workload or pod of the instance exists at all."""

    ready: bool
    idle: bool
    gone: bool
    problem: str = ""
    detail: str = ""
    node: str = ""

    def settles(self, desired_state: str) -> bool:
        """Whether the cluster shows what ``desired_state`` aims at (running, idle, or gone)."""
        return {"RUNNING": self.ready, "STOPPED": self.idle, "DELETED": self.gone}[desired_state]

    @property
    def summary(self) -> str:
        if self.problem:
            return f"{self.problem}: {self.detail}" if self.detail else self.problem
        return self.detail


def _pod_problem(pod: dict) -> tuple[str, str] | None:
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in PROBLEM_REASONS:
            message = waiting.get("message") or f"container {container.get('name')} is {waiting['reason']}"
            return waiting["reason"], message
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return condition.get("reason") or "Unschedulable", condition.get(
                "message"
            ) or "The pod cannot be scheduled."
    return None


def _workload_problem(workload: dict) -> tuple[str, str] | None:
    for condition in (workload.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            message = condition.get("message") or ""
            return (
                "QuotaExceeded" if "exceeded quota" in message else condition.get("reason") or "FailedCreate"
            ), message
    return None


def _workload_ready(workload: dict) -> bool:
    """Every wanted pod is ready *and* runs the current template (a rollout in progress is not)."""
    spec, status, meta = workload.get("spec") or {}, workload.get("status") or {}, workload.get("metadata") or {}
    wanted = spec.get("replicas", 1)
    current = (status.get("observedGeneration") or 0) >= (meta.get("generation") or 0)
    if workload.get("kind") == "StatefulSet":
        updated = status.get("updateRevision") in (None, status.get("currentRevision"))
    else:
        updated = (status.get("updatedReplicas") or 0) >= wanted
    return (
        current and updated and (status.get("readyReplicas") or 0) >= wanted and (status.get("replicas") or 0) == wanted
    )


def assess(observed: Observed, instance_id, *, events: EventLookup | None = None) -> Health:
    """The health of one instance from what ``observe`` read."""
    workloads = observed.of_instance(instance_id, WORKLOADS)
    pods = observed.of_instance(instance_id, ("Pod",))
    live_pods = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    wanting = [w for w in workloads if (w.get("spec") or {}).get("replicas", 1) > 0]
    ready = bool(workloads) and all(_workload_ready(w) for w in workloads)
    node = next(
        (
            (p.get("spec") or {}).get("nodeName", "")
            for p in live_pods
            if ((p.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component") == "web"
        ),
        "",
    )
    problem = None
    if not ready:
        problem = next(filter(None, map(_pod_problem, live_pods)), None) or next(
            filter(None, map(_workload_problem, wanting)), None
        )
        if problem is None and events is not None:
            # A StatefulSet that cannot create its pod says so only in events.
            starved = [w for w in wanting if not any(_owned_by(p, w) for p in live_pods)]
            problem = next(filter(None, (events(w["kind"], w["metadata"]["name"]) for w in starved)), None)
    reason, detail = problem or ("", "")
    if not reason and wanting and not ready:
        detail = "Waiting for the app to become ready."
    return Health(
        ready=ready and bool(wanting),
        idle=not wanting and not pods,
        gone=not workloads and not pods,
        problem=reason,
        detail=detail,
        node=node,
    )


def _owned_by(pod: dict, workload: dict) -> bool:
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(selector) and selector.items() <= labels.items()
