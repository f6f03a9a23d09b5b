"""Reads from the cluster made on a person's behalf: an app's logs and its live status.

Cluster problems become ``pods.exceptions.ClusterError`` (502 ``cluster_error``) here, so the API
answers in its error envelope and never hangs past the driver's timeouts.
"""

from __future__ import annotations

from pods.cluster import ClusterError as DriverError
from pods.cluster import ClusterRefused
from pods.exceptions import ClusterError, NotRunning
from pods.models import ServiceInstance
from templates.renderer import LABEL_INSTANCE_ID

from .cluster import get_cluster
from .health import assess
from .observe import observe_instance

LOG_TAIL_MAX = 1000


def _app_pods(cluster, instance: ServiceInstance) -> list[dict]:
    pods = cluster.list(
        "Pod",
        namespace=instance.namespace,
        labels={LABEL_INSTANCE_ID: str(instance.pk), "app.kubernetes.io/component": "web"},
    )
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    return sorted(live, key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)


def instance_logs(*, instance: ServiceInstance, tail: int = 100) -> str:
    """The last ``tail`` lines of the app container of the instance's newest pod."""
    if instance.desired_state != ServiceInstance.DesiredState.RUNNING:
        raise NotRunning("The app is not running, so it has no logs to show.")
    tail = max(1, min(int(tail), LOG_TAIL_MAX))
    try:
        cluster = get_cluster(interactive=True)
        pods = _app_pods(cluster, instance)
        if not pods:
            raise NotRunning()
        return cluster.pod_logs(
            instance.namespace, pods[0]["metadata"]["name"], container=instance.service.template, tail_lines=tail
        )
    except ClusterRefused as exc:
        if exc.status == 400:  # the container has not started yet (pulling its image, crash loop)
            raise NotRunning(f"The app has not started yet: {exc.message}") from exc
        raise ClusterError() from exc
    except DriverError as exc:
        raise ClusterError() from exc


def _pod_summary(pod: dict) -> dict:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    waiting = next(
        ((c.get("state") or {}).get("waiting") or {} for c in containers if (c.get("state") or {}).get("waiting")), {}
    )
    return {
        "name": pod["metadata"]["name"],
        "component": (pod["metadata"].get("labels") or {}).get("app.kubernetes.io/component", ""),
        "phase": status.get("phase", ""),
        "ready": bool(containers) and all(c.get("ready") for c in containers),
        "restarts": sum(c.get("restartCount") or 0 for c in containers),
        "node": (pod.get("spec") or {}).get("nodeName", ""),
        "reason": waiting.get("reason", ""),
        "started_at": status.get("startTime"),
    }


def instance_live_status(*, instance: ServiceInstance) -> dict:
    """The instance as the cluster sees it right now (for operators): its pods and workloads.

    ``{"reachable": False, "error": ...}`` when the cluster cannot be asked.
    """
    try:
        observed = observe_instance(get_cluster(interactive=True), instance)
    except DriverError as exc:
        return {"reachable": False, "error": exc.message}
    health = assess(observed, instance.pk)
    workloads = observed.of_instance(instance.pk, ("Deployment", "StatefulSet"))
    return {
        "reachable": True,
        "ready": health.ready,
        "problem": health.summary,
        "pods": [_pod_summary(p) for p in observed.of_instance(instance.pk, ("Pod",))],
        "workloads": [
            {
                "kind": w["kind"],
                "name": w["metadata"]["name"],
                "replicas": (w.get("spec") or {}).get("replicas", 0),
                "ready_replicas": (w.get("status") or {}).get("readyReplicas") or 0,
            }
            for w in workloads
        ],
    }
