"""What subscription events tell the owner (emails and webhooks): names people recognise, dates,
amounts; nothing secret."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from notifications.services import emit_many_on_commit, emit_on_commit
from subscriptions.models import Subscription


def subscription_payload(subscription: Subscription, **extra) -> dict:
    return {
        "subscription": {
            "id": str(subscription.pk),
            "name": subscription.name,
            "service": subscription.service.name,
            "plan": subscription.plan.name,
            "status": subscription.status,
            "auto_renew": subscription.auto_renew,
            "cancel_at_period_end": subscription.cancel_at_period_end,
            "current_period_start": subscription.current_period_start,
            "current_period_end": subscription.current_period_end,
            "grace_until": subscription.grace_until,
            "instance_id": str(subscription.instance_id),
        },
        **extra,
    }


def tell(event: str, subscription: Subscription, **extra) -> None:
    """Emit ``event`` about ``subscription`` once the current transaction commits."""
    emit_on_commit(event, user=subscription.user, payload=subscription_payload(subscription, **extra))


def tell_many(event: str, entries: Sequence[tuple[object, object]], payload: Callable[[object], dict]) -> None:
    """``tell`` for many subscriptions at once: ``entries`` pair each owner's id with what
    ``payload`` turns into the event's payload, only for owners someone will tell (``emit_many``)."""
    emit_many_on_commit(event, list(entries), payload)
