"""Status changes of instances, told to whoever sells them without pods importing them
(``paas.hooks``): the subscriptions app refunds a purchase whose app never ran and credits
downtime."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from paas.hooks import Hook


@dataclass(frozen=True)
class StatusChange:
    """An instance's recorded status went from ``old`` to ``new``."""

    instance_id: uuid.UUID
    old: str
    new: str
    reason: str
    message: str
    at: datetime
    # Whether the app had ever been ready before this change (a failure of a first provisioning
    # is the platform's to refund; a failure after it ran is downtime to credit).
    was_ever_ready: bool


# Sent by pods.services.history.status_changed for every status change.
instance_status_changed = Hook("pods.instance_status_changed", StatusChange)
