"""What catalog changes mean to the apps built on it, without importing them: a plan resized by
an operator must reach the instances running on it (pods listens)."""

from __future__ import annotations

from collections.abc import Callable

PlanListener = Callable[[object], None]
_resized: list[PlanListener] = []


def on_plan_resized(listener: PlanListener) -> PlanListener:
    if listener not in _resized:
        _resized.append(listener)
    return listener


def plan_resized(plan) -> None:
    """Tell the listeners in the current transaction (they queue their own after-commit work)."""
    for listener in list(_resized):
        listener(plan)
