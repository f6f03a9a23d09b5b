"""Every status change of a subscription, with the moves allowed and the history written.

No other code sets ``Subscription.status``. A move not listed here is ``InvalidState`` (409).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone

from paas.bulk import any_of, insert_rows
from paas.exceptions import InvalidState
from subscriptions.models import Subscription, SubscriptionEvent

Status = Subscription.Status

ALLOWED: dict[str, frozenset[str]] = {
    # ACTIVE -> ACTIVE is a renewal: the period moves on, the status stays.
    Status.ACTIVE: frozenset({Status.ACTIVE, Status.SUSPENDED, Status.CANCELLED}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.EXPIRED, Status.CANCELLED}),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}

_VERBS = {
    Status.ACTIVE: "renewed",
    Status.SUSPENDED: "suspended",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "expired",
}


def check(subscription: Subscription, to: str) -> None:
    if to not in ALLOWED[subscription.status]:
        raise InvalidState(
            f"A {subscription.status.lower()} subscription cannot be {_VERBS[to]}.",
            extra={"status": subscription.status},
        )


def record(
    subscription: Subscription,
    *,
    reason: str,
    message: str = "",
    amount: Decimal | None = None,
    actor=None,
    from_status: str = "",
    to_status: str = "",
) -> SubscriptionEvent:
    """Write one history entry (a status change, or money moved without one)."""
    return SubscriptionEvent.objects.create(
        subscription=subscription,
        reason=reason[:64],
        message=message[:500],
        amount=amount,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )


def transition(
    subscription: Subscription,
    to: str,
    *,
    reason: str,
    message: str = "",
    amount: Decimal | None = None,
    actor=None,
    fields: tuple[str, ...] = (),
) -> SubscriptionEvent:
    """Move ``subscription`` (locked by the caller) to ``to`` and save it with ``fields``.

    Stamps ``suspended_at`` and ``ended_at`` itself.
    """
    check(subscription, to)
    old = subscription.status
    subscription.status = to
    stamped: list[str] = []
    if to == Status.SUSPENDED:
        subscription.suspended_at = timezone.now()
        stamped.append("suspended_at")
    if to in (Status.CANCELLED, Status.EXPIRED):
        subscription.ended_at = timezone.now()
        stamped.append("ended_at")
    subscription.save(update_fields=["status", *stamped, *fields, "updated_at"])
    return record(
        subscription, reason=reason, message=message, amount=amount, actor=actor, from_status=old, to_status=to
    )


def record_many(
    ids: Sequence,
    *,
    reason: str,
    messages: Sequence[str],
    amounts: Sequence[Decimal | None] | None = None,
    from_status: str = "",
    to_status: str = "",
) -> int:
    """``record`` for many subscriptions in one insert: one entry each, by the platform."""
    return insert_rows(
        SubscriptionEvent,
        {
            "subscription_id": list(ids),
            "message": [m[:500] for m in messages],
            "amount": list(amounts) if amounts is not None else [None] * len(ids),
        },
        reason=reason[:64],
        from_status=from_status,
        to_status=to_status,
    )


def transition_many(ids: Sequence, old: str, to: str, *, reason: str, messages: Sequence[str], **fields) -> None:
    """``transition`` for many subscriptions, all in ``old`` and locked by the caller, in a
    constant number of queries: ``fields`` are the values saved with the move, the same for all."""
    if to not in ALLOWED[old]:
        raise InvalidState(f"A {old.lower()} subscription cannot be {_VERBS[to]}.", extra={"status": old})
    now = timezone.now()
    if to == Status.SUSPENDED:
        fields["suspended_at"] = now
    if to in (Status.CANCELLED, Status.EXPIRED):
        fields["ended_at"] = now
    moved = Subscription.objects.filter(any_of(Subscription, "id", ids), status=old).update(
        status=to, updated_at=now, **fields
    )
    if moved != len(ids):
        raise InvalidState(f"{len(ids) - moved} of the subscriptions were not {old.lower()} any more.")
    record_many(ids, reason=reason, messages=messages, from_status=old, to_status=to)
