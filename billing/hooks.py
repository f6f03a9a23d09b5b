"""What billing tells the apps built on it, without importing them.

- Credit listeners learn that a customer's balance went up (a completed top-up), after the commit,
  e.g. to resume what a short balance suspended.
- Renewal providers tell billing what a customer's balance will be charged next, so the balance
  endpoint can say when the money runs out.
Apps register in their ``AppConfig.ready``; listeners that fail are logged and never undo a payment.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction


@dataclass(frozen=True)
class Renewal:
    """A charge that will be taken from the balance at ``due_at``, then every ``every``."""

    due_at: datetime
    amount: Decimal
    every: timedelta


CreditListener = Callable[[uuid.UUID], None]
RenewalProvider = Callable[[object], Iterable[Renewal]]

_credit_listeners: list[CreditListener] = []
_renewal_providers: list[RenewalProvider] = []


def on_credit(listener: CreditListener) -> CreditListener:
    if listener not in _credit_listeners:
        _credit_listeners.append(listener)
    return listener


def credited(user_id: uuid.UUID) -> None:
    """Tell the listeners, once the current transaction commits, that ``user_id`` has more money."""
    for listener in list(_credit_listeners):
        transaction.on_commit(lambda listener=listener: listener(user_id), robust=True)


def renewal_provider(provider: RenewalProvider) -> RenewalProvider:
    if provider not in _renewal_providers:
        _renewal_providers.append(provider)
    return provider


def upcoming_renewals(user) -> list[Renewal]:
    return [renewal for provider in _renewal_providers for renewal in provider(user)]
