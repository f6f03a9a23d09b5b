"""Cross-app reactions: an app tells whoever is built on it that something happened, without
importing them.

The app that owns the fact declares a ``Hook`` with a frozen dataclass payload in its ``hooks.py``
and ``send``s it from the service that makes the change; the apps built on it ``connect`` their
listeners in their ``AppConfig.ready``. Listeners always run after the sender's transaction
commits (at once outside one), so they never see a change that is rolled back and never hold its
locks. A listener that fails is logged and never undoes the change or stops the others: every
reaction must have a catch-up (a periodic pass that finds the same work), listed with the hooks in
``docs/development.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")
Listener = Callable[[T], None]


class Hook(Generic[T]):
    """A named point other apps react to, carrying a payload of one dataclass type."""

    def __init__(self, name: str, payload: type[T]) -> None:
        self.name = name
        self.payload = payload
        self._listeners: list[Listener[T]] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}>"

    @property
    def listeners(self) -> tuple[Listener[T], ...]:
        return tuple(self._listeners)

    def connect(self, listener: Listener[T]) -> Listener[T]:
        """Call ``listener(payload)`` after every ``send``. Connecting the same one twice is a
        no-op (``ready`` may run more than once). Usable as a decorator."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def disconnect(self, listener: Listener[T]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def send(self, payload: T) -> None:
        """Tell every listener about ``payload`` once the current transaction commits, in the order
        they connected; nothing if it rolls back. A payload of the wrong type is refused at once
        (a programming error, raised in the sender's transaction)."""
        if not isinstance(payload, self.payload):
            raise TypeError(f"{self.name} carries {self.payload.__name__}, not {type(payload).__name__}")
        for listener in list(self._listeners):
            transaction.on_commit(partial(self._run, listener, payload))

    def _run(self, listener: Listener[T], payload: T) -> None:
        try:
            listener(payload)
        except Exception:
            # The change is committed and the other listeners still run; the catch-up pass of this
            # reaction (see docs/development.md) does the work later.
            logger.exception(
                "hook listener failed",
                extra={"hook": self.name, "listener": getattr(listener, "__qualname__", repr(listener))},
            )
