"""The billing clock (beat, every few minutes): renew what is due, suspend what is not paid,
expire what stayed unpaid through its grace, warn before a period ends unpaid.

Safe with two clocks racing, a task retried or a worker killed mid-way:
- due subscriptions are taken in batches with ``SELECT ... FOR UPDATE SKIP LOCKED``: a batch
  another clock holds is skipped, never waited for and never done twice;
- each batch is one database transaction: a killed worker rolls back, and the next run redoes it;
- each renewal charge carries the key ``renew:<subscription>:<period end>``, so a period is
  charged once even if the same batch were replayed.
A batch costs a constant number of queries whatever its size: the renewals are charged together
(``billing.services.wallet_charge_many``: one lock per wallet, bulk ledger rows, invoices numbered
in one go at commit), and the common cases, a paid renewal and a renewal the balance does not
cover, are written in bulk (periods moved, history, apps stopped, owners told). The rare ones
(automatic renewal off, cancelling at the period end, downtime to credit) take the same steps
one subscription at a time.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from billing.selectors import balance_runs_out, wallet_balances
from billing.services import Charge, wallet_charge_many, wallets_lock
from catalog.models import Plan
from catalog.pricing import plan_price
from paas.bulk import any_of, update_rows
from pods.services import instances_stop
from subscriptions.models import Subscription

from .actions import period_renewal_key
from .lifecycle import PERIOD_FIELDS, end, start_period, suspend
from .money import period_length
from .notify import subscription_payload, tell_many
from .purchase import period_description
from .reactions import renewals_of
from .transitions import record, record_many, transition_many

logger = logging.getLogger(__name__)

Status = Subscription.Status
BATCH = 500
# Batches renewed at once, each on its own connection: two keep the database busy while Python
# prepares the next batch's writes (measured in bench/clock.py).
WORKERS = 2

# What a batch reads of each due subscription (rows, not model instances: a batch is hundreds).
DUE_FIELDS = (
    "id",
    "user_id",
    "plan_id",
    "instance_id",
    "name",
    "auto_renew",
    "cancel_at_period_end",
    "current_period_start",
    "current_period_end",
    "downtime_since",
)


@dataclass
class ClockReport:
    renewed: int = 0
    suspended: int = 0
    cancelled: int = 0
    expired: int = 0
    warned: int = 0


def billing_clock(*, now: datetime | None = None, batch_size: int = BATCH, workers: int = WORKERS) -> ClockReport:
    """One tick of the clock over everything due at ``now``; renewals ``workers`` batches at a time."""
    now = now or timezone.now()
    report = ClockReport()
    plans = Plan.objects.select_related("service").in_bulk()
    due = Subscription.objects.due(now)
    for done in _each_batch(
        lambda ids: _renew_batch(ids, now, plans), _batches(due, "current_period_end", batch_size), workers
    ):
        report.renewed += done.renewed
        report.suspended += done.suspended
        report.cancelled += done.cancelled
    for batch in _batches(Subscription.objects.grace_ended(now), "grace_until", batch_size):
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


def _each_batch(work: Callable[[list], ClockReport], batches: Iterator[list], workers: int) -> list[ClockReport]:
    """``work`` on every batch, ``workers`` at a time, each worker on a database connection of its
    own: while one waits for the database (most of a batch's time), another prepares its writes.
    Each batch is its own transaction, so a caller's open transaction (or SQLite, one writer at
    a time) gets them one after the other on its connection instead."""
    if workers <= 1 or connection.in_atomic_block or connection.vendor != "postgresql":
        return [work(batch) for batch in batches]
    todo: queue.Queue = queue.Queue(maxsize=workers)
    done: list[ClockReport] = []
    failed: list[BaseException] = []

    def worker() -> None:
        try:
            while (batch := todo.get()) is not None:
                if not failed:
                    try:
                        done.append(work(batch))
                    except BaseException as exc:  # re-raised below, in the caller's thread
                        failed.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, name=f"billing-clock-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for batch in batches:
            if failed:
                break
            todo.put(batch)
    finally:
        for _ in threads:
            todo.put(None)
        for thread in threads:
            thread.join()
    if failed:
        raise failed[0]
    return done


def _locked_batch(ids: list[uuid.UUID], still: QuerySet[Subscription] | None = None) -> list[Subscription]:
    """The subscriptions of ``ids`` still in ``still`` (a queryset re-checked under the lock), locked."""
    return list(
        (still if still is not None else Subscription.objects.all())
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user", "service", "plan", "instance")
        .filter(pk__in=ids)
        .order_by("user_id", "current_period_end")
    )


def _plans_known(rows, plans: dict) -> None:
    """Add to ``plans`` (loaded when the clock started) any plan created since that rows are on."""
    missing = {row.plan_id for row in rows} - plans.keys()
    if missing:
        plans.update(Plan.objects.select_related("service").in_bulk(missing))


def _payload(row, plan: Plan, **state) -> dict:
    """The event payload of a batch row, as ``subscription_payload`` makes it of a subscription."""
    subscription = Subscription(
        id=row.id,
        user_id=row.user_id,
        service=plan.service,
        plan=plan,
        instance_id=row.instance_id,
        name=row.name,
        auto_renew=row.auto_renew,
        cancel_at_period_end=row.cancel_at_period_end,
        current_period_start=state.pop("start", row.current_period_start),
        current_period_end=state.pop("end", row.current_period_end),
        status=state.pop("status", Status.ACTIVE),
        grace_until=state.pop("grace_until", None),
    )
    return subscription_payload(subscription, **state)


@transaction.atomic
def _renew_batch(ids: list[uuid.UUID], now: datetime, plans: dict) -> ClockReport:
    rows = list(
        Subscription.objects.due(now)
        .select_for_update(skip_locked=True, of=("self",))
        .filter(any_of(Subscription, "id", ids))
        .order_by("user_id", "current_period_end")
        .values_list(*DUE_FIELDS, named=True)
    )
    _plans_known(rows, plans)
    renewing = [r for r in rows if r.auto_renew and not r.cancel_at_period_end]
    if any(r.downtime_since is not None for r in rows):
        # Downtime is credited one subscription at a time below, locking its owner's wallet:
        # every wallet of the batch is locked first, in the order wallet_charge_many takes them.
        wallets_lock({r.user_id for r in rows})
    charges = wallet_charge_many(
        [
            Charge(
                user_id=r.user_id,
                amount=plan_price(plans[r.plan_id]),
                description=period_description(
                    plans[r.plan_id].service,
                    plans[r.plan_id],
                    r.current_period_end,
                    r.current_period_end + period_length(),
                ),
                idempotency_key=period_renewal_key(r.id, r.current_period_end),
                subscription_id=r.id,
            )
            for r in renewing
        ]
    )
    paid = [(r, c.amount) for r, c in zip(renewing, charges, strict=True) if c is not None]
    unpaid = [r for r, c in zip(renewing, charges, strict=True) if c is None]
    # Downtime running across the renewal is credited as the period ends: one at a time (rare).
    _renew([(r, a) for r, a in paid if r.downtime_since is None], now, plans)
    _suspend_unpaid([r for r in unpaid if r.downtime_since is None], plans)
    renewing_ids = {r.id for r in renewing}
    one_by_one = {r.id for r in rows if r.id not in renewing_ids or r.downtime_since is not None}
    subscriptions = {s.pk: s for s in _locked_batch(list(one_by_one))} if one_by_one else {}
    for row, amount in paid:
        if row.downtime_since is not None:
            _renew_one(subscriptions[row.id], amount, now)
    for row in unpaid:
        if row.downtime_since is not None:
            _suspend_one_unpaid(subscriptions[row.id])
    report = ClockReport(renewed=len(paid), suspended=len(unpaid))
    for row in rows:
        if row.cancel_at_period_end:
            end(
                subscriptions[row.id],
                Status.CANCELLED,
                reason="EndedAtPeriodEnd",
                message="Cancelled at the end of its period.",
            )
            report.cancelled += 1
        elif not row.auto_renew:
            suspend(subscriptions[row.id], reason="AutoRenewOff", message="Automatic renewal is off.")
            report.suspended += 1
    return report


def _renew(paid: list[tuple], now: datetime, plans: dict) -> None:
    """Paid renewals: the next period starts where the last one ended, at the price charged."""
    if not paid:
        return
    ends = [r.current_period_end + period_length() for r, _ in paid]
    prices = [amount for _, amount in paid]
    ids = [r.id for r, _ in paid]
    update_rows(
        Subscription,
        "id",
        {
            "id": ids,
            "current_period_start": [r.current_period_end for r, _ in paid],
            "current_period_end": ends,
            "period_price": prices,
            "period_paid": prices,
        },
        warned_for=None,
        updated_at=now,
    )
    record_many(
        ids,
        reason="Renewed",
        messages=[f"Paid until {e:%d %b %Y}." for e in ends],
        amounts=[-a for a in prices],
        from_status=Status.ACTIVE,
        to_status=Status.ACTIVE,
    )

    def renewed(entry: tuple) -> dict:
        row, amount, period_end = entry
        return _payload(row, plans[row.plan_id], start=row.current_period_end, end=period_end, amount=amount)

    tell_many("subscription.renewed", [(r.user_id, (r, a, e)) for (r, a), e in zip(paid, ends, strict=True)], renewed)


def _unpaid_message(price: Decimal) -> str:
    return f"The balance did not cover the renewal of {price:.2f} IDR."


def _suspend_unpaid(unpaid: list, plans: dict) -> None:
    """Renewals the balance did not cover: suspended for the grace period, their apps stopped
    (data kept), their owners told what it takes."""
    if not unpaid:
        return
    grace_until = timezone.now() + timedelta(days=settings.SUBSCRIPTION_GRACE_DAYS)
    messages = [_unpaid_message(plan_price(plans[r.plan_id])) for r in unpaid]
    transition_many(
        [r.id for r in unpaid],
        Status.ACTIVE,
        Status.SUSPENDED,
        reason="RenewalUnpaid",
        messages=messages,
        grace_until=grace_until,
    )
    instances_stop(instance_ids=[r.instance_id for r in unpaid], reason="SubscriptionSuspended")
    balances = wallet_balances(user_ids={r.user_id for r in unpaid})

    def suspended(entry: tuple) -> dict:
        row, message = entry
        plan = plans[row.plan_id]
        return _payload(
            row,
            plan,
            status=Status.SUSPENDED,
            grace_until=grace_until,
            amount=plan_price(plan),
            balance=balances[row.user_id],
            reason=message,
        )

    tell_many("subscription.suspended", [(r.user_id, (r, m)) for r, m in zip(unpaid, messages, strict=True)], suspended)


def _renew_one(subscription: Subscription, amount: Decimal, now: datetime) -> None:
    start_period(subscription, start=subscription.current_period_end, price=amount)
    subscription.updated_at = now
    subscription.save(update_fields=[*PERIOD_FIELDS, "updated_at"])
    record(
        subscription,
        reason="Renewed",
        message=f"Paid until {subscription.current_period_end:%d %b %Y}.",
        amount=-amount,
        from_status=Status.ACTIVE,
        to_status=Status.ACTIVE,
    )
    tell_many(
        "subscription.renewed", [(subscription.user_id, subscription)], lambda s: subscription_payload(s, amount=amount)
    )


def _suspend_one_unpaid(subscription: Subscription) -> None:
    suspend(subscription, reason="RenewalUnpaid", message=_unpaid_message(plan_price(subscription.plan)))


@transaction.atomic
def _expire_batch(ids: list[uuid.UUID], now: datetime, report: ClockReport) -> None:
    for subscription in _locked_batch(ids, Subscription.objects.grace_ended(now)):
        end(subscription, Status.EXPIRED, reason="GraceEnded", message="The grace period ended unpaid.")
        report.expired += 1


def warn_before_period_end(*, now: datetime, batch_size: int = BATCH) -> int:
    """Email the owners whose period ends within ``SUBSCRIPTION_WARN_DAYS`` and will not renew
    (automatic renewal off, or a balance that will not cover it), once per period; and tell
    webhooks ``balance.low``. Subscriptions looked at are marked, covered or not. A batch at a
    time, each in a constant number of queries; a batch another clock holds is skipped."""
    window = now + timedelta(days=settings.SUBSCRIPTION_WARN_DAYS)
    candidates = Subscription.objects.filter(
        status=Status.ACTIVE, cancel_at_period_end=False, current_period_end__gt=now, current_period_end__lte=window
    ).filter(Q(warned_for__isnull=True) | ~Q(warned_for=F("current_period_end")))
    plans = Plan.objects.select_related("service").in_bulk()
    return sum(
        _warn_batch(ids, candidates, now, plans) for ids in _batches(candidates, "current_period_end", batch_size)
    )


@transaction.atomic
def _warn_batch(ids: list[uuid.UUID], candidates, now: datetime, plans: dict) -> int:
    rows = list(
        candidates.select_for_update(skip_locked=True, of=("self",))
        .filter(any_of(Subscription, "id", ids))
        .order_by("user_id", "current_period_end")
        .values_list(*DUE_FIELDS, named=True)
    )
    if not rows:
        return 0
    _plans_known(rows, plans)
    users = {r.user_id for r in rows}
    balances = wallet_balances(user_ids=users)
    renewals = renewals_of(users, now=now)
    runs_out = {u: balance_runs_out(balance=balances[u], renewals=renewals[u], now=now) for u in users}
    Subscription.objects.filter(any_of(Subscription, "id", [r.id for r in rows])).update(
        warned_for=F("current_period_end")
    )

    def short(row) -> bool:
        return runs_out[row.user_id] is not None and runs_out[row.user_id] <= row.current_period_end

    told = [r for r in rows if not r.auto_renew or short(r)]

    def expiring(row) -> dict:
        plan = plans[row.plan_id]
        return _payload(row, plan, amount=plan_price(plan), balance=balances[row.user_id])

    def low(row) -> dict:
        return {
            "amount": plan_price(plans[row.plan_id]),
            "balance": balances[row.user_id],
            "runs_out_at": runs_out[row.user_id],
            "subscription_id": str(row.id),
        }

    tell_many("subscription.expiring", [(r.user_id, r) for r in told], expiring)
    tell_many("balance.low", [(r.user_id, r) for r in told if short(r)], low)
    return len(told)
