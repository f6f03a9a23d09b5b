"""The control loop: the controllers of a small cluster, driven by changes and timers.

Each controller keeps a work queue of keys. Every store change is offered to every controller
(``on_change``), which enqueues what it must look at; time-based transitions (a container
becoming ready after ``ready_delay``, a crash-loop back-off ending, a Deployment's progress
deadline) are timers. ``tick`` fires due timers, then drains the queues round after round until
nothing is left, so one ``tick`` takes a new Deployment as far as the clock allows, and an idle
cluster of thousands of objects costs next to nothing per tick.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from .events import EventRecorder
from .meta import clone
from .registry import Registry
from .resources import ResourceType
from .store import Store

MAX_ROUNDS = 20
EVENT_PRUNE_INTERVAL = 60.0

# Images matching these go to ErrImagePull/ImagePullBackOff, or crash-loop (see docs/emulator.md).
DEFAULT_PULL_FAIL_PATTERN = r"(does-not-exist|nonexistent|pull-fail)"
DEFAULT_CRASH_PATTERN = r"(crashloop|crash-loop)"


@dataclass
class ClusterSettings:
    """What the simulated nodes and kubelets look like; changeable at run time."""

    nodes: int = 3
    node_cpu: str = "4"
    node_memory: str = "8Gi"
    node_pods: int = 110
    ready_delay: float = 3.0
    image_pull_fail_pattern: str | None = DEFAULT_PULL_FAIL_PATTERN
    crash_pattern: str | None = DEFAULT_CRASH_PATTERN
    kubernetes_version: str = "1.33"
    # Seconds after which a list's continue token answers 410 Expired (None: never).
    continue_token_ttl: float | None = None
    _compiled: dict[str, re.Pattern[str] | None] = field(default_factory=dict, repr=False)

    def matches(self, which: str, image: str) -> bool:
        pattern = self.image_pull_fail_pattern if which == "pull" else self.crash_pattern
        if not pattern:
            return False
        compiled = self._compiled.get(pattern)
        if compiled is None:
            compiled = self._compiled[pattern] = re.compile(pattern)
        return bool(compiled.search(image))


class Controller:
    """A work queue and a ``sync(key)`` that brings one object to its desired state."""

    def __init__(self, loop: ControlLoop) -> None:
        self.loop = loop
        self._queue: dict[Hashable, None] = {}

    def enqueue(self, key: Hashable) -> None:
        self._queue[key] = None

    def on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Enqueue what this change concerns (called for every store write)."""

    def resync(self) -> None:
        """Enqueue everything this controller owns (after a restore)."""

    def run(self) -> int:
        """Sync every queued key once; returns how many there were."""
        keys = list(self._queue)
        self._queue.clear()
        for key in keys:
            self.sync(key)
        return len(keys)

    def sync(self, key: Any) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        self._queue.clear()


class ControlLoop:
    """Owns the controllers, their timers, and the helpers they share."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        events: EventRecorder,
        clock: Callable[[], float],
        settings: ClusterSettings,
        rng: random.Random,
        controllers: list[Callable[[ControlLoop], Controller]],
    ) -> None:
        self.store = store
        self.registry = registry
        self.events = events
        self.clock = clock
        self.settings = settings
        self.rng = rng
        self._timers: list[tuple[float, int, Controller, Hashable]] = []
        self._sequence = itertools.count()
        self._next_prune = 0.0
        self.controllers = [make(self) for make in controllers]
        store.subscribe(self._on_change)

    def controller(self, kind: type[Controller]) -> Any:
        return next(c for c in self.controllers if isinstance(c, kind))

    def _on_change(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        for controller in self.controllers:
            controller.on_change(rt, old, new)

    def schedule(self, controller: Controller, key: Hashable, at: float) -> None:
        """Enqueue ``key`` on ``controller`` once the clock reaches ``at``."""
        heapq.heappush(self._timers, (at, next(self._sequence), controller, key))

    def tick(self) -> int:
        """One pass: fire due timers, then run the controllers until their queues are empty.
        Returns how many keys were synced. The caller holds the emulator's lock."""
        now = self.clock()
        while self._timers and self._timers[0][0] <= now:
            _, _, controller, key = heapq.heappop(self._timers)
            controller.enqueue(key)
        synced = 0
        for _ in range(MAX_ROUNDS):
            done = sum(c.run() for c in self.controllers)
            synced += done
            if not done:
                break
        if now >= self._next_prune:
            self.events.prune()
            self._next_prune = now + EVENT_PRUNE_INTERVAL
        return synced

    def resync(self) -> None:
        for controller in self.controllers:
            controller.resync()

    def reset(self) -> None:
        self._timers.clear()
        for controller in self.controllers:
            controller.reset()

    # --- helpers for controllers ----------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def save(self, rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """Store ``new`` (a changed clone of ``old``), as the API server writes it (canonical
        quantities, zero values omitted), unless nothing changed."""
        new = self.registry.canonical.object(new)
        if new == old:
            return old
        return self.store.put(rt, new)

    def edit(self, rt: ResourceType, obj: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Store ``obj`` as changed by ``change`` (which gets a deep copy), unless nothing changed."""
        new = clone(obj)
        change(new)
        return self.save(rt, obj, new)

    def set_status(self, rt: ResourceType, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` with a new ``status``, unless it is the same. Cheaper than ``edit``: the
        new version shares everything but status and metadata with the old (never mutated)."""
        status = self.registry.canonical.field(obj, "status", status)
        if obj.get("status") == status:
            return obj
        return self.store.put(rt, {**obj, "metadata": dict(obj["metadata"]), "status": status})
