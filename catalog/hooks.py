"""What catalog changes mean to the apps built on it, without importing them (``paas.hooks``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from paas.hooks import Hook


@dataclass(frozen=True)
class PlanResized:
    """An operator changed a plan's CPU, memory or storage: what runs on it must get the new size."""

    plan_id: uuid.UUID


# Sent by catalog.services.plan_update; pods reconciles the instances on the plan.
plan_resized = Hook("catalog.plan_resized", PlanResized)
