"""The emulated cluster: store, API semantics, controllers, and the controls tests use.

``Emulator`` is everything but the socket: serve it with ``server.EmulatorServer``. Its control
loop runs in a background thread after ``start()``; tests that want determinism do not start it
and call ``tick()`` (one synchronous pass) instead, with an injected ``clock``.

All state is guarded by ``lock`` (a re-entrant lock): API requests, controller passes and the
control methods below each hold it for their whole duration.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from . import resources as r
from .access import AccessRules, Denial
from .admission import SYSTEM_NAMESPACES, Admission
from .api import Api
from .events import EventRecorder
from .faults import FaultInjector, FaultRule
from .kubelet import Kubelet, NodeController, Scheduler
from .lifecycle import GarbageCollector, NamespaceController, QuotaController, VolumeBinder
from .loop import DEFAULT_CRASH_PATTERN, DEFAULT_PULL_FAIL_PATTERN, ClusterSettings, ControlLoop
from .meta import clone
from .registry import INTERNAL, Registry
from .requestlog import RequestLog
from .schema import schemas_for
from .store import Store
from .workloads import DeploymentController, ReplicaSetController, StatefulSetController

log = logging.getLogger(__name__)

_UNSET: Any = object()
# Controllers in the order one pass runs them: owners before what they own, the kubelet last.
CONTROLLERS = (
    NamespaceController,
    GarbageCollector,
    DeploymentController,
    ReplicaSetController,
    StatefulSetController,
    VolumeBinder,
    NodeController,
    Scheduler,
    Kubelet,
    QuotaController,
)


class Emulator:
    """A small Kubernetes cluster in memory.

    ``nodes`` Nodes named ``emulator-node-1``.. with ``node_cpu``/``node_memory``/``node_pods``
    capacity; containers become ready ``ready_delay`` seconds after they start; images matching
    ``image_pull_fail_pattern`` fail to pull and images matching ``crash_pattern`` crash-loop
    (None disables a pattern). ``kubernetes_version`` picks the validation schemas and what
    ``/version`` reports. ``clock`` is the time source of everything (timestamps, delays,
    back-offs, metrics); ``seed`` makes generated names reproducible. ``continue_token_ttl``
    makes list continue tokens older than that many seconds answer 410 Expired, as after an etcd
    compaction (None, the default: they never expire; 0: every next page expires).
    """

    def __init__(
        self,
        *,
        nodes: int = 3,
        node_cpu: str = "4",
        node_memory: str = "8Gi",
        node_pods: int = 110,
        ready_delay: float = 3.0,
        image_pull_fail_pattern: str | None = DEFAULT_PULL_FAIL_PATTERN,
        crash_pattern: str | None = DEFAULT_CRASH_PATTERN,
        kubernetes_version: str = "1.33",
        clock: Callable[[], float] = time.time,
        tick_interval: float = 0.2,
        seed: int | None = None,
        continue_token_ttl: float | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.tick_interval = tick_interval
        self.settings = ClusterSettings(
            nodes=nodes,
            node_cpu=node_cpu,
            node_memory=node_memory,
            node_pods=node_pods,
            ready_delay=ready_delay,
            image_pull_fail_pattern=image_pull_fail_pattern,
            crash_pattern=crash_pattern,
            kubernetes_version=kubernetes_version,
        )
        self.set_continue_token_ttl(continue_token_ttl)
        self.set_image_patterns(pull_fail=image_pull_fail_pattern, crash=crash_pattern)
        self.schemas = schemas_for(kubernetes_version)
        # Names only (pod suffixes, generateName): nothing here needs cryptographic randomness.
        self.rng = random.Random(seed)  # noqa: S311
        self.store = Store()
        self.registry = Registry(self.store, self.schemas, Admission(self.store), clock, self.rng)
        self.events = EventRecorder(self.store, clock)
        self.loop = ControlLoop(
            self.store, self.registry, self.events, clock, self.settings, self.rng, list(CONTROLLERS)
        )
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.access = AccessRules()
        self.api = Api(self)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        with self.lock:
            self._bootstrap()

    @property
    def kubernetes_version(self) -> str:
        return self.settings.kubernetes_version

    # --- the control loop -----------------------------------------------------------------

    def tick(self) -> int:
        """Run one controller pass now (fire due timers, drain every work queue)."""
        with self.lock:
            return self.loop.tick()

    def start(self) -> Emulator:
        """Run the control loop in a background thread, one pass every ``tick_interval`` seconds."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="emulator-controllers", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.faults.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self.tick_interval):
            try:
                self.tick()
            except Exception:  # a controller bug must not stop the cluster
                log.exception("emulator controller pass failed")

    # --- controls -------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to a fresh cluster: the system namespaces and the nodes; faults, the request log,
        access rules and timers cleared. Settings (patterns, ready delay) are kept."""
        self.faults.clear()
        self.requests.clear()
        self.access.clear()
        with self.lock:
            self.loop.reset()
            self.events.forget()
            self.store.clear()
            self.registry.rebuild()
            self._bootstrap()

    def objects(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of ``resource`` (``"deployments"``, ``"pods"``...), in key order."""
        rt = r.by_key(resource)
        with self.lock:
            return clone(self.store.list(rt, namespace))

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        """A copy of one stored object, or None (``namespace`` is ignored for cluster-scoped kinds)."""
        rt = r.by_key(resource)
        with self.lock:
            obj = self.store.get(rt, namespace if rt.namespaced else "", name)
            return clone(obj) if obj is not None else None

    def set_image_patterns(self, *, pull_fail: str | None = _UNSET, crash: str | None = _UNSET) -> None:
        """Change the regexes (searched in the image reference) that make pulls fail or containers
        crash-loop; None disables one. Containers already running are not affected by ``pull_fail``."""
        for pattern in (pull_fail, crash):
            if pattern not in (_UNSET, None):
                re.compile(pattern)
        if pull_fail is not _UNSET:
            self.settings.image_pull_fail_pattern = pull_fail
        if crash is not _UNSET:
            self.settings.crash_pattern = crash

    def set_ready_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("ready_delay cannot be negative")
        self.settings.ready_delay = seconds

    def set_continue_token_ttl(self, seconds: float | None) -> None:
        """Continue tokens older than ``seconds`` answer 410 Expired; None: they never expire."""
        if seconds is not None and seconds < 0:
            raise ValueError("continue_token_ttl cannot be negative")
        self.settings.continue_token_ttl = seconds

    def set_node_ready(self, name: str, ready: bool = True) -> dict[str, Any]:
        """Mark a node Ready or NotReady; pods on it follow on the next pass."""
        with self.lock:
            return clone(self.loop.controller(NodeController).set_ready(name, ready))

    def deny(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> Denial:
        """Make SelfSubjectAccessReviews for this verb/resource (``"*"`` for any) answer not allowed."""
        return self.access.deny(verb, resource, group, namespace)

    def add_fault(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """Shorthand for ``faults.add``, e.g. ``add_fault(verb="create", resource="deployments", status=500)``."""
        return self.faults.add(rule, **fields)

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- persistence ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return clone(self.store.snapshot())

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace the cluster's objects with a ``snapshot()`` and let the controllers catch up.
        Objects are brought to the form this version stores (canonical quantities, no zero values)."""
        canonical = self.registry.canonical
        objects = {
            key: [canonical.object(obj) for obj in objs] for key, objs in (snapshot.get("objects") or {}).items()
        }
        snapshot = {**snapshot, "objects": objects}
        with self.lock:
            self.loop.reset()
            self.events.forget()
            self.store.restore(snapshot)
            self.registry.rebuild()
            if not self.store.list(r.NAMESPACES):
                self._bootstrap()
            self.loop.resync()

    # --- bootstrap ------------------------------------------------------------------------

    def _bootstrap(self) -> None:
        for name in SYSTEM_NAMESPACES:
            if self.store.get(r.NAMESPACES, "", name) is None:
                self.registry.create(r.NAMESPACES, {"metadata": {"name": name}}, "", INTERNAL)
        nodes = self.loop.controller(NodeController)
        for index in range(1, self.settings.nodes + 1):
            name = f"emulator-node-{index}"
            if self.store.get(r.NODES, "", name) is None:
                self.registry.create(r.NODES, nodes.new_node(name, index), "", INTERNAL)
        self.loop.tick()
