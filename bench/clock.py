"""The billing clock at scale: many due subscriptions renewed (or suspended) by one beat task.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/paas_bench python bench/clock.py [--subscriptions 100000]

Sets up customers whose subscriptions are all due (bulk inserts, not timed): most can pay, one
in ten has no balance (every subscription of theirs is suspended), and a customer with two
subscriptions whose balance covers only one sees one renewed and one suspended. One customer in
a hundred has a webhook endpoint. Then runs the beat task ``subscriptions.billing_clock_tick`` once and
reports its wall time and its queries per subscription, while customers keep completing top-ups
(through the payment webhook) on wallets the clock is charging: their latency before and during
the run. Afterwards: every outcome as expected, the ledger invariant, no period charged twice,
gap-free invoice numbers, and a second run of the task that finds nothing to do.

Work the clock hands to workers (stopping suspended apps, emails, webhooks) goes to a Redis
broker of its own (``BENCH_BROKER_URL``, default redis db 6), emptied before and after.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Report, setup

TARGET_SECONDS = 60
CHUNK = 5000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class QueryCounter:
    """Counts the statements sent on this thread's connection and on every connection opened
    while it is on (the clock's worker threads open their own)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        with self.lock:
            self.count += 1
        return execute(sql, params, many, context)

    def _attach(self, sender, connection, **kwargs) -> None:
        connection.execute_wrappers.append(self)

    def __enter__(self) -> QueryCounter:
        from django.db import connection
        from django.db.backends.signals import connection_created

        connection.execute_wrappers.append(self)
        connection_created.connect(self._attach, weak=False)
        return self

    def __exit__(self, *exc) -> None:
        from django.db import connection
        from django.db.backends.signals import connection_created

        connection_created.disconnect(self._attach)
        connection.execute_wrappers.remove(self)


def populate(count: int, now, seed: int = 7):
    """Customers, wallets (funded through ADJUSTMENT rows), instances and due subscriptions.

    Returns (expected renewals, expected suspensions, ids of well-funded customers).
    """
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from billing.models import Transaction, Wallet
    from catalog.models import Plan
    from catalog.services import catalog_seed
    from notifications.events import WEBHOOK_EVENTS
    from notifications.models import WebhookEndpoint
    from notifications.services import WEBHOOK_SEAL_PURPOSE
    from paas import crypto
    from pods.models import ServiceInstance
    from subscriptions.models import Subscription
    from templates.naming import namespace_for_user

    rng = random.Random(seed)
    unusable = make_password(None)  # nobody logs in as these customers
    catalog_seed()
    plans = list(Plan.objects.select_related("service").filter(is_active=True, service__is_active=True))
    sealed = crypto.seal("whsec_bench", purpose=WEBHOOK_SEAL_PURPOSE)
    users, wallets, funding, endpoints, instances, subscriptions = [], [], [], [], [], []
    renewals = suspensions = 0
    well_funded: list[uuid.UUID] = []
    i = 0
    while len(subscriptions) < count:
        user_id = uuid.uuid4()
        users.append(User(id=user_id, email=f"c{i}@bench.local", name=f"Customer {i}", password=unusable))
        owned = 2 if i % 5 == 1 else 1
        owned = min(owned, count - len(subscriptions))
        due = []
        for k in range(owned):
            plan = plans[(i + k) % len(plans)]
            end = now - timedelta(seconds=rng.randint(1, 3600))
            instance_id = uuid.uuid4()
            instances.append(
                ServiceInstance(
                    id=instance_id,
                    owner_id=user_id,
                    service_id=plan.service_id,
                    plan_id=plan.pk,
                    name=f"{plan.service.name} {i}-{k}",
                    secrets_sealed="bench",
                    namespace=namespace_for_user(user_id),
                    host=f"b{i}-{k}.apps.bench",
                    status=ServiceInstance.Status.RUNNING,
                    generation=1,
                    observed_generation=1,
                    first_ready_at=end - timedelta(days=30),
                )
            )
            subscription = Subscription(
                id=uuid.uuid4(),
                user_id=user_id,
                service_id=plan.service_id,
                plan_id=plan.pk,
                instance_id=instance_id,
                name=f"{plan.service.name} {i}-{k}",
                current_period_start=end - timedelta(days=30),
                current_period_end=end,
                period_price=plan.price_monthly,
                period_paid=plan.price_monthly,
            )
            subscriptions.append(subscription)
            due.append((end, subscription.id, plan.price_monthly))
        due.sort()
        total = sum(price for _, _, price in due)
        if i % 10 == 0:
            balance = Decimal("0.00")  # short: every subscription suspended
        elif owned == 2 and i % 3 == 0:
            balance = due[0][2]  # covers the first renewal due only
        else:
            balance = total * 3
            well_funded.append(user_id)
        left = balance
        for _, _, price in due:
            if left >= price:
                left -= price
                renewals += 1
            else:
                suspensions += 1
        wallets.append(Wallet(user_id=user_id, balance=balance))
        if balance:
            funding.append(
                Transaction(
                    user_id=user_id,
                    type=Transaction.Type.ADJUSTMENT,
                    status=Transaction.Status.COMPLETED,
                    amount=balance,
                    balance_after=balance,
                    completed_at=now - timedelta(days=31),
                    description="bench funding",
                )
            )
        if i % 100 == 7:
            endpoints.append(
                WebhookEndpoint(
                    user_id=user_id,
                    url=f"https://hooks.bench.example/{i}",
                    events=list(WEBHOOK_EVENTS),
                    secret_sealed=sealed,
                )
            )
        i += 1
    for model_rows in (users, wallets, funding, endpoints, instances, subscriptions):
        model_rows[0].__class__.objects.bulk_create(model_rows, batch_size=CHUNK)
    return renewals, suspensions, well_funded


class TopUps:
    """A customer completing top-ups one after another, in a process of its own as the web
    workers are (not sharing the clock's interpreter): the payment webhook's settlement, timed."""

    def __init__(self, user_ids: list[uuid.UUID]) -> None:
        context = multiprocessing.get_context("fork")
        self._stopping = context.Event()
        self._results = context.Queue()
        self._process = context.Process(target=self._run, args=(user_ids,), daemon=True)
        self.samples: list[tuple[float, float]] = []  # (finished at, seconds), perf_counter is system-wide
        self.errors: list[str] = []

    def start(self) -> None:
        from django.db import connections

        connections.close_all()  # the child opens its own
        self._process.start()

    def stop(self) -> None:
        self._stopping.set()
        self.samples, self.errors = self._results.get(timeout=120)
        self._process.join(timeout=30)

    def _run(self, user_ids: list[uuid.UUID]) -> None:
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        from accounts.models import User
        from billing.gateways.simulator import build_notification
        from billing.services import topup_create

        rng = random.Random(11)
        client = Client()
        samples, errors = [], []
        try:
            while not self._stopping.is_set():
                user = User.objects.get(pk=rng.choice(user_ids))
                topup = topup_create(user=user, amount=Decimal("50000.00"))
                body = build_notification(
                    order_id=topup.order_id,
                    gross_amount=f"{topup.amount:.2f}",
                    transaction_status="settlement",
                    server_key=settings.MIDTRANS_SERVER_KEY,
                )
                start = time.perf_counter()
                response = client.post("/api/v1/billing/midtrans/notification", body, content_type="application/json")
                finished = time.perf_counter()
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
                samples.append((finished, finished - start))
                self._stopping.wait(0.02)
        except Exception as exc:  # reported by the parent, which fails the run
            errors.append(repr(exc))
        finally:
            connection.close()
            self._results.put((samples, errors))

    def between(self, start: float, end: float) -> list[float]:
        return [seconds for at, seconds in self.samples if start <= at <= end]


def describe(latencies: list[float]) -> str:
    if not latencies:
        return "none completed"
    ms = [s * 1000 for s in latencies]
    return f"{len(ms)} completed, p50 {median(ms):.0f} ms, p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms"


def check(report: Report, expected_renewals: int, expected_suspensions: int) -> bool:
    from django.db import connection

    from billing.models import Invoice, InvoiceSequence
    from subscriptions.models import Subscription

    ok = True
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM billing_wallet w
            LEFT JOIN (SELECT user_id, sum(amount) AS total FROM billing_transaction
                       WHERE status = 'COMPLETED' GROUP BY user_id) t ON t.user_id = w.user_id
            WHERE w.balance <> coalesce(t.total, 0) OR (w.balance < 0 AND w.debt_since IS NULL)
            """
        )
        drifted = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM (SELECT idempotency_key FROM billing_transaction
            WHERE type = 'CHARGE' AND idempotency_key LIKE 'renew:%%' GROUP BY idempotency_key
            HAVING count(*) > 1) twice
            """
        )
        twice = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM subscriptions_subscription s JOIN pods_serviceinstance i ON i.id = s.instance_id
            WHERE s.status = 'SUSPENDED' AND i.desired_state <> 'STOPPED'
            """
        )
        still_running = cursor.fetchone()[0]
    report(f"   ledger invariant: {'holds' if not drifted else f'{drifted} wallets drifted'}")
    report(f"   periods charged twice: {twice}")
    suspended = Subscription.objects.filter(status="SUSPENDED").count()
    active = Subscription.objects.filter(status="ACTIVE").count()
    report(
        f"   subscriptions ACTIVE {active} (expected {expected_renewals}), SUSPENDED {suspended} "
        f"(expected {expected_suspensions}); suspended apps not asked to stop: {still_running}"
    )
    counter = InvoiceSequence.objects.values_list("last_number", flat=True).first() or 0
    issued = Invoice.objects.count()
    numbered = Invoice.objects.filter(sequence__isnull=False).values("sequence").distinct().count()
    gap_free = counter == issued == numbered
    report(f"   invoices: {issued} issued, counter at {counter}: {'gap-free' if gap_free else 'GAPS OR REPEATS'}")
    ok = not drifted and not twice and not still_running and gap_free
    ok = ok and active == expected_renewals and suspended == expected_suspensions
    return ok


def broker_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=None, help="the clock's batch size (default: its own)")
    args = parser.parse_args()
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    setup()
    broker_flush(broker)

    from celery.signals import before_task_publish
    from django.db import connection
    from django.utils import timezone

    from subscriptions.services import clock
    from subscriptions.tasks import billing_clock_tick_task

    report = Report("clock")
    report("== Billing clock ==")
    now = timezone.now()
    start = time.perf_counter()
    renewals, suspensions, well_funded = populate(args.subscriptions, now)
    report(
        f"set-up: {args.subscriptions} due subscriptions ({renewals} payable, {suspensions} short), "
        f"{time.perf_counter() - start:.0f} s (not timed below)"
    )
    connection.cursor().execute("VACUUM ANALYZE")
    if args.batch:
        clock.BATCH = args.batch

    published = [0]
    before_task_publish.connect(lambda **kw: published.__setitem__(0, published[0] + 1), weak=False)

    topups = TopUps(well_funded)
    topups.start()
    time.sleep(5)
    calm_end = time.perf_counter()
    with QueryCounter() as counter:
        started = time.perf_counter()
        result = billing_clock_tick_task()
        wall = time.perf_counter() - started
    busy_end = time.perf_counter()
    topups.stop()

    n = args.subscriptions
    report(f"1. one run of subscriptions.billing_clock_tick over {n} due subscriptions (batch {clock.BATCH})")
    report(f"   {result}")
    report(f"   wall time {wall:.1f} s ({n / wall:.0f} subscriptions/s)")
    report(f"   {counter.count} queries: {counter.count / n:.3f} per subscription; {published[0]} tasks queued")
    report(f"   target: under {TARGET_SECONDS} s: {'met' if wall < TARGET_SECONDS else 'NOT met'}")
    report("2. top-ups completing (payment webhook, settlement) on wallets the clock charges")
    report(f"   before the run: {describe(topups.between(0, calm_end))}")
    report(f"   during the run: {describe(topups.between(calm_end, busy_end))}")
    if topups.errors:
        report(f"   errors: {sorted(set(topups.errors))}")
    report("3. afterwards")
    ok = check(report, renewals, suspensions)
    with QueryCounter() as counter:
        started = time.perf_counter()
        again = billing_clock_tick_task()
        second = time.perf_counter() - started
    idle = again["renewed"] == again["suspended"] == 0
    report(
        f"   second run: {again} in {second:.1f} s, {counter.count} queries: {'nothing to do' if idle else 'DID WORK'}"
    )
    broker_flush(broker)
    print(f"saved {report.save()}")
    if not (ok and idle and not topups.errors):
        raise SystemExit("clock check failed")


if __name__ == "__main__":
    main()
