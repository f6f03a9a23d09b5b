"""Status changes of instances, told to whoever sells them, without pods importing them.

The subscriptions app registers a listener in its ``AppConfig.ready`` (refunding a purchase
whose app never ran, crediting downtime). Listeners run after the transaction that recorded the
change commits; one that fails is logged and never undoes the change or stops the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusChange:
    instance_id: uuid.UUID
    old: str
    new: str
    reason: str
    message: str
    at: datetime
    # Whether the app had ever been ready before this change (a failure of a first provisioning
    # is the platform's to refund; a failure after it ran is downtime to credit).
    was_ever_ready: bool


Listener = Callable[[StatusChange], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Listener:
    """Register ``listener`` for every status change (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def announce(change: StatusChange) -> None:
    """Tell every listener about ``change`` once the current transaction commits."""
    for listener in list(_listeners):
        transaction.on_commit(lambda listener=listener: listener(change), robust=True)
