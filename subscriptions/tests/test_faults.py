"""A Celery worker SIGKILLed in the middle of a renewal, with real processes: the billing clock
runs in a real ``celery worker``, blocked at a known point by a row lock this test holds, and the
worker is killed there. Whatever PostgreSQL then does with its transaction, running the clock
again charges each period once, and the ledger still adds up (checked after every test here).
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from billing.models import Invoice, InvoiceSequence, Transaction, Wallet
from paas.tests.celery_worker import PostgresObserver, WorkerProcess, backend_pid, private_queue, wait_for
from subscriptions import tasks
from subscriptions.models import Subscription

from .factories import buy, fund

pytestmark = pytest.mark.django_db(transaction=True)


def _lock_the_wallet(subscription):
    # The renewal has locked its batch of subscriptions and waits for the wallet before writing.
    Wallet.objects.select_for_update().get(user_id=subscription.user_id)


def _lock_the_invoice_counter(subscription):
    # Invoices are numbered while the transaction commits (as foreign keys are checked): with
    # every row written, COMMIT waits here.
    InvoiceSequence.objects.select_for_update().get(year=timezone.now().year)


@pytest.mark.parametrize(
    ("lock", "committed_by_the_dead_worker"),
    [(_lock_the_wallet, False), (_lock_the_invoice_counter, True)],
    ids=["killed-before-the-charge", "killed-while-committing"],
)
def test_a_worker_killed_mid_renewal_charges_the_period_once(cluster, user, lock, committed_by_the_dead_worker):
    # given: a subscription whose period just ended, and the money to renew it
    subscription = buy(user)
    price = subscription.plan.price_monthly
    fund(user, f"{price:.2f}")
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_start=now - timedelta(days=30, minutes=1), current_period_end=now - timedelta(minutes=1)
    )
    subscription.refresh_from_db()
    period_end = subscription.current_period_end
    balance = Wallet.objects.get(user=user).balance
    observer = PostgresObserver()
    try:
        with private_queue() as queue:
            worker = WorkerProcess(queue).start()
            try:
                with transaction.atomic():
                    lock(subscription)
                    me = backend_pid()
                    # when: beat's clock runs in the worker and blocks on the lock mid-renewal...
                    tasks.billing_clock_tick_task.delay()
                    (blocked,) = wait_for(lambda: observer.blocked_by(me), what="the renewal to wait on the lock")
                    # ... where the worker is SIGKILLed
                    worker.kill()
                # The lock is released: the orphaned backend finds its client gone and ends.
                wait_for(lambda: not observer.alive(blocked), timeout=30, what="the dead worker's backend to end")
            finally:
                worker.kill()
    finally:
        observer.close()

    # then: the dead worker's transaction either committed whole or left nothing behind
    subscription.refresh_from_db()
    renewals = Transaction.objects.filter(
        subscription_id=subscription.pk, type="CHARGE", idempotency_key__startswith="renew:"
    )
    assert renewals.count() == (1 if committed_by_the_dead_worker else 0)
    assert (subscription.current_period_end > period_end) == committed_by_the_dead_worker
    assert Wallet.objects.get(user=user).balance == (balance - price if committed_by_the_dead_worker else balance)

    # when: the clock runs again, twice (beat's next runs)
    first, second = tasks.billing_clock_tick_task(), tasks.billing_clock_tick_task()

    # then: the period is renewed, and charged, once
    assert first["renewed"] == (0 if committed_by_the_dead_worker else 1)
    assert second["renewed"] == 0
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.current_period_start == period_end
    (renewal,) = renewals
    assert renewal.idempotency_key == f"renew:{subscription.pk}:{period_end.isoformat()}"
    assert renewal.amount == -price
    assert Wallet.objects.get(user=user).balance == balance - price
    # Every completed row has one invoice, numbered without duplicates or gaps.
    invoices = list(Invoice.objects.order_by("sequence").values_list("sequence", "number", "transaction_id"))
    assert [sequence for sequence, _, _ in invoices] == list(range(1, len(invoices) + 1))
    assert len({number for _, number, _ in invoices}) == len(invoices)
    assert {t for _, _, t in invoices} == set(
        Transaction.objects.filter(status="COMPLETED", type__in=["CHARGE", "TOPUP"]).values_list("id", flat=True)
    )
