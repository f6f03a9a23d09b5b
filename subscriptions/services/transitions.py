"""Every status change of a subscription, with the moves allowed and the history written.

No other code sets ``Subscription.status``. A move not listed here is ``InvalidState`` (409).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

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
