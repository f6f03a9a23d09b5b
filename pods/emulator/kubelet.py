"""Nodes, the scheduler and the kubelets: what makes a pod go from created to Running and Ready.

- ``NodeController`` gives every Node (the initial ones and any created through the API) a
  plausible status: capacity, allocatable, conditions, addresses, ``nodeInfo``; readiness is set
  through the emulator's control API.
- ``Scheduler`` binds each new pod to a Ready, schedulable node that matches its
  ``nodeSelector`` and has room for its requests (cpu, memory, pod count within allocatable), the
  least allocated first; otherwise the pod stays Pending with ``PodScheduled=False,
  Unschedulable`` and a ``FailedScheduling`` event, and is retried when nodes or pods change.
- ``Kubelet`` runs the bound pods: images matching the pull-failure pattern go to
  ``ErrImagePull`` then ``ImagePullBackOff``; images matching the crash pattern crash-loop
  (``CrashLoopBackOff``, growing ``restartCount``, exit code 1, back-off 10 s doubling to 5 min);
  the others run and become ready ``ready_delay`` seconds after they started. Nothing runs:
  there are no containers, only the statuses and events a real kubelet would report.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from decimal import Decimal
from typing import Any

from pods.quantity import QuantityError, format_quantity, parse_quantity

from . import resources as r
from .events import NORMAL, WARNING
from .loop import Controller, ControlLoop
from .meta import clone, parse_rfc3339, rfc3339
from .quota import is_terminal, pod_resources
from .resources import ResourceType

SYSTEM_RESERVED_CPU = Decimal("0.1")
SYSTEM_RESERVED_MEMORY = Decimal(256 * 2**20)
BACKOFF_START, BACKOFF_MAX = 10, 300
NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}


def _condition(kind: str, status: bool, now: str, reason: str = "", message: str = "") -> dict[str, Any]:
    cond = {"type": kind, "status": "True" if status else "False", "lastProbeTime": None, "lastTransitionTime": now}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _set_condition(conditions: list[dict[str, Any]], new: dict[str, Any]) -> None:
    """Replace the condition of the same type, keeping its transition time if the status is the same."""
    for i, cond in enumerate(conditions):
        if cond["type"] == new["type"]:
            if cond["status"] == new["status"]:
                new["lastTransitionTime"] = cond.get("lastTransitionTime", new["lastTransitionTime"])
            conditions[i] = new
            return
    conditions.append(new)


def node_is_ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def _backoff(restarts: int) -> int:
    """The kubelet's crash-loop back-off: 10 s, doubling per restart, at most 5 minutes."""
    return min(BACKOFF_START * 2 ** max(restarts - 1, 0), BACKOFF_MAX)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- nodes ----------------------------------------------------------------------------------


class NodeController(Controller):
    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.NODES and new is not None:
            self.enqueue(new["metadata"]["name"])

    def resync(self) -> None:
        for node in self.loop.store.iter(r.NODES):
            self.enqueue(node["metadata"]["name"])

    def sync(self, key: Any) -> None:
        node = self.loop.store.get(r.NODES, "", key)
        if node is not None:
            self.loop.edit(r.NODES, node, self._complete)

    def new_node(self, name: str, index: int) -> dict[str, Any]:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {"node-role.kubernetes.io/worker": ""},
            },
            "spec": {
                "podCIDR": f"10.244.{index}.0/24",
                "podCIDRs": [f"10.244.{index}.0/24"],
                "providerID": f"emulator://{name}",
            },
        }
        self._complete(node)
        return node

    def _complete(self, node: dict[str, Any]) -> None:
        """Fill what a kubelet reports about its node, leaving what is already there."""
        settings = self.loop.settings
        name = node["metadata"]["name"]
        node.setdefault("spec", {})
        labels = node["metadata"].setdefault("labels", {})
        for key, value in (
            ("kubernetes.io/hostname", name),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
            ("beta.kubernetes.io/os", "linux"),
            ("beta.kubernetes.io/arch", "amd64"),
        ):
            labels.setdefault(key, value)
        status = node.setdefault("status", {})
        if not status.get("capacity"):
            status["capacity"] = {
                "cpu": settings.node_cpu,
                "memory": settings.node_memory,
                "pods": str(settings.node_pods),
                "ephemeral-storage": "100Gi",
            }
        if not status.get("allocatable"):
            cap = status["capacity"]
            cpu = max(Decimal(0), parse_quantity(cap.get("cpu", "0")) - SYSTEM_RESERVED_CPU)
            memory = max(Decimal(0), parse_quantity(cap.get("memory", "0")) - SYSTEM_RESERVED_MEMORY)
            status["allocatable"] = {**cap, "cpu": format_quantity(cpu), "memory": format_quantity(memory, binary=True)}
        now = rfc3339(self.loop.now())
        if not status.get("conditions"):
            status["conditions"] = [
                {**_condition(kind, False, now, f"KubeletHas{reason}", message), "lastHeartbeatTime": now}
                for kind, reason, message in (
                    ("MemoryPressure", "SufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "NoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "SufficientPID", "kubelet has sufficient PID available"),
                )
            ] + [
                {
                    **_condition("Ready", True, now, "KubeletReady", "kubelet is posting ready status"),
                    "lastHeartbeatTime": now,
                }
            ]
            for cond in status["conditions"]:
                cond.pop("lastProbeTime", None)
        index = sum(ord(c) for c in name) % 250 + 2
        status.setdefault(
            "addresses", [{"type": "InternalIP", "address": f"172.18.0.{index}"}, {"type": "Hostname", "address": name}]
        )
        status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
        version = settings.kubernetes_version.lstrip("v")
        status.setdefault(
            "nodeInfo",
            {
                "machineID": _digest(f"machine:{name}")[:32],
                "systemUUID": _digest(f"system:{name}")[:32],
                "bootID": _digest(f"boot:{name}")[:32],
                "kernelVersion": "6.1.0-emulated",
                "osImage": "PaaS Kubernetes emulator (no real containers)",
                "containerRuntimeVersion": "emulated://1.0.0",
                "kubeletVersion": f"v{version}.0" if version.count(".") == 1 else f"v{version}",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        )

    def set_ready(self, name: str, ready: bool) -> dict[str, Any]:
        """Mark a node Ready or NotReady (with the not-ready NoSchedule taint), as a kubelet that
        stops posting status would leave it."""
        node = self.loop.registry.get(r.NODES, "", name)
        now = rfc3339(self.loop.now())

        def change(new: dict[str, Any]) -> None:
            conditions = new.setdefault("status", {}).setdefault("conditions", [])
            if ready:
                cond = _condition("Ready", True, now, "KubeletReady", "kubelet is posting ready status")
            else:
                cond = _condition("Ready", False, now, "NodeStatusUnknown", "Kubelet stopped posting node status.")
                cond["status"] = "Unknown"
            cond.pop("lastProbeTime", None)
            cond["lastHeartbeatTime"] = now
            _set_condition(conditions, cond)
            new.setdefault("spec", {})
            taints = [t for t in new["spec"].get("taints") or [] if t.get("key") != NOT_READY_TAINT["key"]]
            if not ready:
                taints.append({**NOT_READY_TAINT, "timeAdded": now})
            if taints:
                new["spec"]["taints"] = taints
            else:
                new["spec"].pop("taints", None)

        return self.loop.edit(r.NODES, node, change)


# --- scheduler ------------------------------------------------------------------------------


class Scheduler(Controller):
    def __init__(self, loop: ControlLoop) -> None:
        super().__init__(loop)
        self._unschedulable: set[tuple[str, str]] = set()
        self._requests: dict[str, dict[str, Decimal]] = {}

    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.PODS:
            if new is not None and not new["spec"].get("nodeName") and not is_terminal(new):
                key = (new["metadata"]["namespace"], new["metadata"]["name"])
                if key not in self._unschedulable:
                    self.enqueue(key)
            freed = old is not None and old["spec"].get("nodeName") and (new is None or is_terminal(new))
            if freed:
                self._requests.pop(old["metadata"].get("uid", ""), None)
                self._wake()
            if new is None and old is not None:
                self._unschedulable.discard((old["metadata"]["namespace"], old["metadata"]["name"]))
        elif rt is r.NODES:
            self._wake()

    def _wake(self) -> None:
        for key in sorted(self._unschedulable):
            self.enqueue(key)
        self._unschedulable.clear()

    def resync(self) -> None:
        for pod in self.loop.store.iter(r.PODS):
            if not pod["spec"].get("nodeName") and not is_terminal(pod):
                self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    def reset(self) -> None:
        super().reset()
        self._unschedulable.clear()
        self._requests.clear()

    def requests_of(self, pod: dict[str, Any]) -> dict[str, Decimal]:
        uid = pod["metadata"].get("uid", "")
        cached = self._requests.get(uid)
        if cached is None:
            totals = pod_resources(pod.get("spec") or {})
            cached = self._requests[uid] = {"cpu": totals["requests.cpu"], "memory": totals["requests.memory"]}
        return cached

    def run(self) -> int:
        keys = list(self._queue)
        self._queue.clear()
        if not keys:
            return 0
        nodes = self.loop.store.list(r.NODES)
        used: dict[str, dict[str, Decimal]] = {
            n["metadata"]["name"]: {"cpu": Decimal(0), "memory": Decimal(0), "pods": Decimal(0)} for n in nodes
        }
        for pod in self.loop.store.iter(r.PODS):
            node_name = pod["spec"].get("nodeName")
            if node_name in used and not is_terminal(pod):
                req = self.requests_of(pod)
                used[node_name]["cpu"] += req["cpu"]
                used[node_name]["memory"] += req["memory"]
                used[node_name]["pods"] += 1
        for key in keys:
            self._schedule(key, nodes, used)
        return len(keys)

    def _schedule(self, key: tuple[str, str], nodes: list[dict[str, Any]], used: dict[str, dict[str, Decimal]]) -> None:
        pod = self.loop.store.get(r.PODS, *key)
        if pod is None or pod["spec"].get("nodeName") or is_terminal(pod) or pod["metadata"].get("deletionTimestamp"):
            return
        wanted = self.requests_of(pod)
        selector = pod["spec"].get("nodeSelector") or {}
        reasons: Counter[str] = Counter()
        best: tuple[Decimal, str] | None = None
        for node in nodes:
            name = node["metadata"]["name"]
            why = self._unfit(node, selector, wanted, used[name])
            if why:
                reasons[why] += 1
                continue
            allocatable = node["status"]["allocatable"]
            cpu = parse_quantity(allocatable.get("cpu", "0"))
            score = (used[name]["cpu"] + wanted["cpu"]) / cpu if cpu else Decimal(0)
            if best is None or (score, name) < best:
                best = (score, name)
        now = rfc3339(self.loop.now())
        if best is None:
            detail = ", ".join(f"{count} {why}" for why, count in sorted(reasons.items()))
            message = (
                f"0/{len(nodes)} nodes are available: {detail}." if nodes else "no nodes available to schedule pods"
            )
            self._unschedulable.add(key)

            def pending(new: dict[str, Any]) -> None:
                conditions = new.setdefault("status", {}).setdefault("conditions", [])
                _set_condition(conditions, _condition("PodScheduled", False, now, "Unschedulable", message))
                new["status"]["phase"] = "Pending"

            saved = self.loop.edit(r.PODS, pod, pending)
            if saved is not pod:
                self.loop.events.record(
                    pod, r.PODS, WARNING, "FailedScheduling", message, component="default-scheduler"
                )
            return
        node_name = best[1]
        used[node_name]["cpu"] += wanted["cpu"]
        used[node_name]["memory"] += wanted["memory"]
        used[node_name]["pods"] += 1

        def bind(new: dict[str, Any]) -> None:
            new["spec"]["nodeName"] = node_name
            conditions = new.setdefault("status", {}).setdefault("conditions", [])
            _set_condition(conditions, _condition("PodScheduled", True, now))

        bound = self.loop.edit(r.PODS, pod, bind)
        self.loop.events.record(
            bound,
            r.PODS,
            NORMAL,
            "Scheduled",
            f"Successfully assigned {key[0]}/{key[1]} to {node_name}",
            component="default-scheduler",
        )

    @staticmethod
    def _unfit(
        node: dict[str, Any], selector: dict[str, str], wanted: dict[str, Decimal], used: dict[str, Decimal]
    ) -> str | None:
        if (node.get("spec") or {}).get("unschedulable"):
            return "node(s) were unschedulable"
        if not node_is_ready(node):
            return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            return "node(s) didn't match Pod's node affinity/selector"
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        try:
            if used["pods"] + 1 > parse_quantity(allocatable.get("pods", "110")):
                return "Too many pods"
            if used["cpu"] + wanted["cpu"] > parse_quantity(allocatable.get("cpu", "0")):
                return "Insufficient cpu"
            if used["memory"] + wanted["memory"] > parse_quantity(allocatable.get("memory", "0")):
                return "Insufficient memory"
        except QuantityError:
            return "node(s) had invalid allocatable resources"
        return None


# --- kubelet --------------------------------------------------------------------------------


class Kubelet(Controller):
    def __init__(self, loop: ControlLoop) -> None:
        super().__init__(loop)
        # Precise container start times (the status only keeps whole seconds).
        self._started: dict[tuple[str, str], float] = {}

    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt is r.PODS:
            if new is not None and new["spec"].get("nodeName") and not is_terminal(new):
                self.enqueue((new["metadata"]["namespace"], new["metadata"]["name"]))
            elif new is None and old is not None:
                self._stopped(old)
        elif rt is r.NODES and new is not None and old is not None and node_is_ready(old) != node_is_ready(new):
            name = new["metadata"]["name"]
            for pod in self.loop.store.iter(r.PODS):
                if pod["spec"].get("nodeName") == name:
                    self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    def resync(self) -> None:
        for pod in self.loop.store.iter(r.PODS):
            if pod["spec"].get("nodeName") and not is_terminal(pod):
                self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    def reset(self) -> None:
        super().reset()
        self._started.clear()

    def _stopped(self, pod: dict[str, Any]) -> None:
        uid = pod["metadata"].get("uid", "")
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            self._started.pop((uid, cs["name"]), None)
            if "running" in (cs.get("state") or {}):
                self._event(pod, NORMAL, "Killing", f"Stopping container {cs['name']}")

    def _event(self, pod: dict[str, Any], kind: str, reason: str, message: str) -> None:
        self.loop.events.record(
            pod, r.PODS, kind, reason, message, component="kubelet", host=pod["spec"].get("nodeName", "")
        )

    def sync(self, key: Any) -> None:
        pod = self.loop.store.get(r.PODS, *key)
        if (
            pod is None
            or not pod["spec"].get("nodeName")
            or pod["metadata"].get("deletionTimestamp")
            or is_terminal(pod)
        ):
            return
        node = self.loop.store.get(r.NODES, "", pod["spec"]["nodeName"])
        new = clone(pod)
        pending_events: list[tuple[str, str, str]] = []
        self._drive(new, node, pending_events)
        saved = self.loop.save(r.PODS, pod, new)
        for kind, reason, message in pending_events:
            self._event(saved, kind, reason, message)

    def _drive(self, pod: dict[str, Any], node: dict[str, Any] | None, events: list[tuple[str, str, str]]) -> None:
        now = self.loop.now()
        stamp = rfc3339(now)
        uid = pod["metadata"]["uid"]
        status = pod.setdefault("status", {})
        node_ready = node is not None and node_is_ready(node)
        if not status.get("startTime"):
            status["startTime"] = stamp
            host_ip = next(
                (
                    a["address"]
                    for a in ((node or {}).get("status") or {}).get("addresses") or []
                    if a.get("type") == "InternalIP"
                ),
                "",
            )
            if host_ip:
                status["hostIP"] = host_ip
                status["hostIPs"] = [{"ip": host_ip}]
            pod_ip = self._pod_ip(node, uid)
            status["podIP"] = pod_ip
            status["podIPs"] = [{"ip": pod_ip}]
        statuses = {cs["name"]: cs for cs in status.get("containerStatuses") or []}
        result = []
        for container in pod["spec"].get("containers") or []:
            cs = statuses.get(container["name"]) or self._new_status(container)
            self._drive_container(pod, container, cs, now, node_ready, events)
            result.append(cs)
        status["containerStatuses"] = result
        running = any("running" in cs["state"] for cs in result)
        restarted = any(cs.get("restartCount", 0) for cs in result)
        status["phase"] = "Running" if running or restarted else "Pending"
        all_ready = all(cs["ready"] for cs in result) and bool(result)
        unready = [cs["name"] for cs in result if not cs["ready"]]
        conditions = status.setdefault("conditions", [])
        _set_condition(conditions, _condition("PodReadyToStartContainers", True, stamp))
        _set_condition(conditions, _condition("Initialized", True, stamp))
        for kind in ("Ready", "ContainersReady"):
            if all_ready:
                _set_condition(conditions, _condition(kind, True, stamp))
            else:
                _set_condition(
                    conditions,
                    _condition(
                        kind,
                        False,
                        stamp,
                        "ContainersNotReady",
                        f"containers with unready status: [{' '.join(unready)}]",
                    ),
                )
        _set_condition(conditions, _condition("PodScheduled", True, stamp))
        order = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
        conditions.sort(key=lambda c: order.index(c["type"]) if c["type"] in order else len(order))

    @staticmethod
    def _pod_ip(node: dict[str, Any] | None, uid: str) -> str:
        cidr = ((node or {}).get("spec") or {}).get("podCIDR") or "10.244.0.0/24"
        prefix = cidr.split("/")[0].rsplit(".", 1)[0]
        return f"{prefix}.{int(uid.replace('-', '')[:8], 16) % 250 + 2}"

    @staticmethod
    def _new_status(container: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "started": False,
            "state": {"waiting": {"reason": "ContainerCreating"}},
            "lastState": {},
        }

    def _drive_container(
        self,
        pod: dict[str, Any],
        container: dict[str, Any],
        cs: dict[str, Any],
        now: float,
        node_ready: bool,
        events: list[tuple[str, str, str]],
    ) -> None:
        settings = self.loop.settings
        image = container.get("image", "")
        name = container["name"]
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        state = cs["state"]
        waiting = (state.get("waiting") or {}).get("reason")

        if settings.matches("pull", image) and "running" not in state:
            if waiting == "ContainerCreating":
                message = f'failed to pull and unpack image "{image}": not found (emulated pull failure)'
                cs["state"] = {"waiting": {"reason": "ErrImagePull", "message": message}}
                events.extend(
                    [
                        (NORMAL, "Pulling", f'Pulling image "{image}"'),
                        (WARNING, "Failed", f'Failed to pull image "{image}": {message}'),
                        (WARNING, "Failed", "Error: ErrImagePull"),
                    ]
                )
            elif waiting == "ErrImagePull":
                cs["state"] = {
                    "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
                }
                events.extend(
                    [
                        (NORMAL, "BackOff", f'Back-off pulling image "{image}"'),
                        (WARNING, "Failed", "Error: ImagePullBackOff"),
                    ]
                )
            return

        was_running = "running" in state
        if waiting == "ContainerCreating":
            self._start(pod, container, cs, now, events, first=True)
        if settings.matches("crash", image):
            if was_running:
                self._crash(pod, cs, now, events)
            elif waiting == "CrashLoopBackOff":
                finished = parse_rfc3339(cs["lastState"]["terminated"]["finishedAt"])
                restart_at = finished + _backoff(cs["restartCount"])
                if now >= restart_at:
                    self._start(pod, container, cs, now, events, first=False)
                else:
                    self.loop.schedule(self, key, restart_at)
            # A container that just started crashes on its next sync (the write re-queues it).
            return
        if "running" in cs["state"]:
            started = self._started.get((pod["metadata"]["uid"], name))
            if started is None:
                started = parse_rfc3339(cs["state"]["running"]["startedAt"])
            ready = node_ready and now >= started + settings.ready_delay
            cs["ready"] = cs["started"] = ready
            if not ready and node_ready:
                self.loop.schedule(self, key, started + settings.ready_delay)

    def _crash(self, pod: dict[str, Any], cs: dict[str, Any], now: float, events: list[tuple[str, str, str]]) -> None:
        namespace, pod_name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
        name = cs["name"]
        cs["restartCount"] = cs.get("restartCount", 0) + 1
        backoff = _backoff(cs["restartCount"])
        cs["lastState"] = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": cs["state"]["running"]["startedAt"],
                "finishedAt": rfc3339(now),
                "containerID": cs.get("containerID", ""),
            }
        }
        message = f"back-off {backoff}s restarting failed container={name} pod={pod_name}_{namespace}({uid})"
        cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
        cs["ready"] = cs["started"] = False
        events.append(
            (WARNING, "BackOff", f"Back-off restarting failed container {name} in pod {pod_name}_{namespace}({uid})")
        )
        self.loop.schedule(self, (namespace, pod_name), now + backoff)

    def _start(
        self,
        pod: dict[str, Any],
        container: dict[str, Any],
        cs: dict[str, Any],
        now: float,
        events: list[tuple[str, str, str]],
        *,
        first: bool,
    ) -> None:
        image = container.get("image", "")
        uid = pod["metadata"]["uid"]
        name = container["name"]
        attempt = cs.get("restartCount", 0)
        cs["containerID"] = "containerd://" + _digest(f"{uid}/{name}/{attempt}")
        cs["imageID"] = f"{image.split('@')[0].split(':')[0]}@sha256:{_digest(image)}"
        cs["state"] = {"running": {"startedAt": rfc3339(now)}}
        cs["ready"] = cs["started"] = False
        self._started[(uid, name)] = now
        if first:
            events.extend(
                [
                    (NORMAL, "Pulling", f'Pulling image "{image}"'),
                    (NORMAL, "Pulled", f'Successfully pulled image "{image}" in 0s (emulated: nothing was downloaded)'),
                ]
            )
        else:
            events.append((NORMAL, "Pulled", f'Container image "{image}" already present on machine'))
        events.extend(
            [(NORMAL, "Created", f"Created container: {name}"), (NORMAL, "Started", f"Started container {name}")]
        )
