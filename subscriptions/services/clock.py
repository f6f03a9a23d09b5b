"""The billing clock (beat, every few minutes): renew what is due, suspend what is not paid,
expire what stayed unpaid through its grace, warn before a period ends unpaid.

Safe with two clocks racing, a task retried or a worker killed mid-way:
- due subscriptions are taken in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``: a batch
  another clock holds is skipped, never waited for and never done twice;
- each batch is one database transaction: a killed worker rolls back, and the next run redoes it;
- each renewal charge carries the key ``renew:<subscription>:<period end>``, so a period is
  charged once even if the same batch were replayed.
Renewals of a batch are charged together (``billing.services.wallet_charge_many``): one lock per
wallet, one invoice counter update, bulk inserts.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.selectors import balance_overview, wallet_balance
from billing.services import Charge, wallet_charge_many
from notifications.services import emit_on_commit
from subscriptions.models import Subscription, SubscriptionEvent

from .actions import renewal_key
from .lifecycle import PERIOD_FIELDS, end, start_period, suspend
from .money import period_length
from .notify import subscription_payload, tell
from .purchase import period_description

logger = logging.getLogger(__name__)

Status = Subscription.Status
BATCH = 500


@dataclass
class ClockReport:
    renewed: int = 0
    suspended: int = 0
    cancelled: int = 0
    expired: int = 0
    warned: int = 0


def billing_clock(*, now: datetime | None = None, batch_size: int = BATCH) -> ClockReport:
    """One tick of the clock over everything due at ``now``."""
    now = now or timezone.now()
    report = ClockReport()
    for batch in _batches(
        Subscription.objects.filter(status=Status.ACTIVE, current_period_end__lte=now), "current_period_end", batch_size
    ):
        _renew_batch(batch, now, report)
    for batch in _batches(
        Subscription.objects.filter(status=Status.SUSPENDED, grace_until__lte=now), "grace_until", batch_size
    ):
        _expire_batch(batch, now, report)
    report.warned = warn_before_period_end(now=now)
    return report


def _batches(queryset, field: str, size: int):
    """Ids in ``(field, id)`` order, a batch at a time, resuming after the last one seen: rows
    another clock has locked (and skipped here) do not stop the walk."""
    last: tuple | None = None
    while True:
        page = queryset
        if last is not None:
            page = page.filter(Q(**{f"{field}__gt": last[0]}) | Q(**{field: last[0], "id__gt": last[1]}))
        rows = list(page.order_by(field, "id").values_list(field, "id")[:size])
        if not rows:
            return
        last = rows[-1]
        yield [row_id for _, row_id in rows]


def _locked_batch(ids: list[uuid.UUID], **still) -> list[Subscription]:
    return list(
        Subscription.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("user", "service", "plan", "instance")
        .filter(pk__in=ids, **still)
        .order_by("user_id", "current_period_end")
    )


@transaction.atomic
def _renew_batch(ids: list[uuid.UUID], now: datetime, report: ClockReport) -> None:
    subscriptions = _locked_batch(ids, status=Status.ACTIVE, current_period_end__lte=now)
    renewing = [s for s in subscriptions if s.auto_renew and not s.cancel_at_period_end]
    charges = wallet_charge_many(
        [
            Charge(
                user_id=s.user_id,
                amount=s.plan.price_monthly,
                description=period_description(
                    s.service, s.plan, s.current_period_end, s.current_period_end + period_length()
                ),
                idempotency_key=renewal_key(s),
                subscription_id=s.pk,
            )
            for s in renewing
        ]
    )
    renewed = []
    for subscription, charge in zip(renewing, charges, strict=True):
        if charge is None:
            suspend(
                subscription,
                reason="RenewalUnpaid",
                message=f"The balance did not cover the renewal of {subscription.plan.price_monthly:.2f} IDR.",
            )
            report.suspended += 1
            continue
        start_period(subscription, start=subscription.current_period_end, price=-charge.amount)
        subscription.updated_at = now
        renewed.append((subscription, charge))
    if renewed:
        Subscription.objects.bulk_update([s for s, _ in renewed], [*PERIOD_FIELDS, "updated_at"])
        SubscriptionEvent.objects.bulk_create(
            [
                SubscriptionEvent(
                    subscription=s,
                    reason="Renewed",
                    message=f"Paid until {s.current_period_end:%d %b %Y}.",
                    amount=c.amount,
                    from_status=Status.ACTIVE,
                    to_status=Status.ACTIVE,
                )
                for s, c in renewed
            ]
        )
        for subscription, charge in renewed:
            tell("subscription.renewed", subscription, amount=-charge.amount)
        report.renewed += len(renewed)
    for subscription in subscriptions:
        if subscription.cancel_at_period_end:
            end(
                subscription, Status.CANCELLED, reason="EndedAtPeriodEnd", message="Cancelled at the end of its period."
            )
            report.cancelled += 1
        elif not subscription.auto_renew:
            suspend(subscription, reason="AutoRenewOff", message="Automatic renewal is off.")
            report.suspended += 1


@transaction.atomic
def _expire_batch(ids: list[uuid.UUID], now: datetime, report: ClockReport) -> None:
    for subscription in _locked_batch(ids, status=Status.SUSPENDED, grace_until__lte=now):
        end(subscription, Status.EXPIRED, reason="GraceEnded", message="The grace period ended unpaid.")
        report.expired += 1


def warn_before_period_end(*, now: datetime) -> int:
    """Email the owners whose period ends within ``SUBSCRIPTION_WARN_DAYS`` and will not renew
    (automatic renewal off, or a balance that will not cover it), once per period; and tell
    webhooks ``balance.low``. Subscriptions looked at are marked, covered or not."""
    window = now + timedelta(days=settings.SUBSCRIPTION_WARN_DAYS)
    candidates = list(
        Subscription.objects.filter(
            status=Status.ACTIVE, cancel_at_period_end=False, current_period_end__gt=now, current_period_end__lte=window
        )
        .filter(Q(warned_for__isnull=True) | ~Q(warned_for=F("current_period_end")))
        .select_related("user", "service", "plan")
        .order_by("user_id", "current_period_end")
    )
    warned = 0
    runs_out: dict = {}
    for subscription in candidates:
        user = subscription.user
        if user.pk not in runs_out:
            runs_out[user.pk] = balance_overview(user=user, now=now).runs_out_at
        short = runs_out[user.pk] is not None and runs_out[user.pk] <= subscription.current_period_end
        with transaction.atomic():
            Subscription.objects.filter(pk=subscription.pk).update(warned_for=subscription.current_period_end)
            if subscription.auto_renew and not short:
                continue
            balance = wallet_balance(user=user)
            payload = {"amount": subscription.plan.price_monthly, "balance": balance}
            emit_on_commit("subscription.expiring", user=user, payload=subscription_payload(subscription, **payload))
            if short:
                emit_on_commit(
                    "balance.low",
                    user=user,
                    payload={**payload, "runs_out_at": runs_out[user.pk], "subscription_id": str(subscription.pk)},
                )
            warned += 1
    return warned
