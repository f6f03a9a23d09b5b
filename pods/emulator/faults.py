"""Fault injection: make chosen API requests fail, slow down, hang or lose their connection.

A ``FaultRule`` matches requests by verb, group, resource (``deployments``, ``pods/log``),
namespace and name (each optional: None matches anything) and says what to do instead of (or,
with ``after=True``, after) serving them: answer ``status`` with a proper Status body, sleep
``delay`` seconds first, ``hang`` until the client's read timeout fires, or ``drop`` the
connection without a response. ``times`` limits how often the rule fires; None is until cleared.
The first matching rule wins.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .routing import RequestInfo

DEFAULT_HANG_SECONDS = 120.0
_ids = itertools.count(1)


@dataclass
class FaultRule:
    verb: str | None = None
    resource: str | None = None
    group: str | None = None
    namespace: str | None = None
    name: str | None = None
    status: int | None = None
    message: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    hang: bool = False
    drop: bool = False
    times: int | None = None
    after: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0

    def __post_init__(self) -> None:
        actions = [self.status is not None, self.hang, self.drop]
        if sum(actions) > 1:
            raise ValueError("a fault rule answers a status, hangs or drops: pick one")
        if not any(actions) and not self.delay:
            raise ValueError("a fault rule needs an action: status, delay, hang or drop")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for unlimited)")

    def matches(self, info: RequestInfo) -> bool:
        if not info.is_resource:
            return False
        return (
            (self.verb in (None, "*", info.verb))
            and (self.group in (None, "*", info.group))
            and (self.resource in (None, "*", info.qualified_resource))
            and (self.namespace in (None, info.namespace))
            and (self.name in (None, info.name))
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """The active rules. Thread-safe: request threads ``take`` while tests ``add`` and ``clear``."""

    def __init__(self, hang_seconds: float = DEFAULT_HANG_SECONDS) -> None:
        self.hang_seconds = hang_seconds
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._release = threading.Event()

    def add(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """Add ``rule`` (or one built from ``fields``, e.g. ``add(verb="create", status=500, times=1)``)."""
        rule = rule or FaultRule(**fields)
        with self._lock:
            self._rules.append(rule)
            self._release.clear()
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) < before

    def clear(self) -> None:
        """Remove every rule and wake the requests that are hanging."""
        with self._lock:
            self._rules.clear()
        self._release.set()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, info: RequestInfo) -> FaultRule | None:
        """The rule that fires for this request (spending one of its ``times``), or None."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(info):
                    rule.hits += 1
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times == 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake early when the rules are cleared or the server stops."""
        self._release.wait(seconds)

    def hang(self) -> None:
        self.sleep(self.hang_seconds)
