"""What billing tells the apps built on it, and asks them, without importing them.

- ``balance_credited`` (a ``paas.hooks.Hook``): a customer's balance went up (a completed top-up,
  an operator's positive adjustment), told after the commit, e.g. to resume what a short balance
  suspended.
- Renewal providers are a query, not a reaction: billing asks them, while it answers, what a
  customer's balance will be charged next, so the balance endpoint and the expiry warnings can say
  when the money runs out. Apps register one in their ``AppConfig.ready``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from paas.hooks import Hook


@dataclass(frozen=True)
class BalanceCredited:
    """Money arrived on ``user_id``'s wallet."""

    user_id: uuid.UUID


# Sent by billing.services (top-up completed, positive adjustment); subscriptions resumes what it pays.
balance_credited = Hook("billing.balance_credited", BalanceCredited)


@dataclass(frozen=True)
class Renewal:
    """A charge that will be taken from the balance at ``due_at``, then every ``every``."""

    due_at: datetime
    amount: Decimal
    every: timedelta


# Called with the customer (a user); returns what will renew for them.
RenewalProvider = Callable[[object], Iterable[Renewal]]

_renewal_providers: list[RenewalProvider] = []


def renewal_provider(provider: RenewalProvider) -> RenewalProvider:
    """Register ``provider`` (idempotent): its renewals count in every runway from now on."""
    if provider not in _renewal_providers:
        _renewal_providers.append(provider)
    return provider


def upcoming_renewals(user) -> list[Renewal]:
    """Every renewal the registered providers report for ``user``, in the caller's transaction."""
    return [renewal for provider in _renewal_providers for renewal in provider(user)]
