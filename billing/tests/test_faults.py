"""Faults around crediting a top-up: the PostgreSQL connection dropped while a Midtrans
notification is handled, and the worker process that applies a payment's status SIGKILLed.

The webhook runs in a real server thread (``live_server``) with its own database connection and
the real midtransclient, whose HTTP is answered by ``responses``. The test holds the wallet's row
lock, so the handler waits at a known point inside its transaction; another session then
terminates the handler's backend with ``pg_terminate_backend``, as a failover or an operator would.
Midtrans retries any answer that is not 2xx: the retry must credit the top-up, and only once.
"""

import http.client
import json
import threading
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import responses
from django.db import transaction
from django.test import override_settings

from billing import services
from billing.models import Invoice, PaymentNotification, Transaction, Wallet
from billing.tasks import topup_sync_task
from paas.tests.celery_worker import (
    PostgresObserver,
    WorkerProcess,
    backend_pid,
    private_queue,
    private_redis,
    wait_for,
)

from .conftest import WEBHOOK, ledger_snapshot
from .factories import notification_for

pytestmark = pytest.mark.django_db(transaction=True)

SNAP_URL = "https://app.sandbox.midtrans.com/snap/v1/transactions"
STATUS_URL = "https://api.sandbox.midtrans.com/v2/{order_id}/status"
SNAP_OK = {"token": "5f0c8c1e-token", "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/5f0c"}


@pytest.fixture
def midtrans(settings):
    # Production's set-up: Midtrans, and every notification confirmed with the status API.
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_VERIFY_STATUS = True
    settings.MIDTRANS_IS_PRODUCTION = False
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def deliver(live_server, body: dict) -> tuple[int, dict]:
    """POST the notification as Midtrans does, over a real connection to the server."""
    url = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", WEBHOOK, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_a_connection_dropped_mid_notification_is_retried_and_credits_once(live_server, user, midtrans):
    # given: a pending top-up that Midtrans reports paid
    midtrans.post(SNAP_URL, json=SNAP_OK, status=201)
    topup = services.topup_create(user=user, amount=Decimal("150000.00"))
    body = notification_for(topup, "settlement")
    midtrans.get(STATUS_URL.format(order_id=topup.order_id), json={**body, "status_message": "Success"})
    Wallet.objects.get_or_create(user=user)
    before = ledger_snapshot(user)

    observer = PostgresObserver()
    answers = []
    try:
        with transaction.atomic():
            Wallet.objects.select_for_update().get(user=user)
            me = backend_pid()
            # when: the notification arrives while the wallet is locked, so its handler waits inside
            # its transaction, and its database connection is cut right there
            delivery = threading.Thread(target=lambda: answers.append(deliver(live_server, body)))
            delivery.start()
            (handler,) = wait_for(lambda: observer.blocked_by(me), what="the handler to wait for the wallet")
            assert observer.terminate(handler)
            delivery.join(timeout=30)
    finally:
        observer.close()

    # then: Midtrans is told to retry (5xx, in the error envelope), and nothing moved
    ((status, error),) = answers
    assert status == 503, error
    assert error["error"]["code"] == "service_unavailable"
    assert ledger_snapshot(user) == before
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING

    # when: Midtrans retries, and (as it may) delivers the same notification once more
    retried, duplicate = deliver(live_server, body), deliver(live_server, body)

    # then: the top-up is credited exactly once
    assert retried == (200, {"status": "ok", "outcome": "credited"})
    assert duplicate == (200, {"status": "ok", "outcome": "no_change"})
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.COMPLETED
    assert Wallet.objects.get(user=user).balance == Decimal("150000.00")
    assert Transaction.objects.filter(user=user, status="COMPLETED").count() == 1
    assert Invoice.objects.filter(transaction=topup).count() == 1
    # Each delivery is kept for audit, the cut one included.
    assert PaymentNotification.objects.filter(order_id=topup.order_id).count() == 3


# --- the worker process applying a payment killed -------------------------------------------------


def test_a_pool_process_killed_mid_credit_is_replaced_and_the_task_run_again_once(user):
    # given: a top-up paid at the (simulated) gateway, whose state lives in a Redis of this test's own
    with private_redis() as url:
        cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "paas-test"}
        with override_settings(CACHES={"default": cache}):
            topup = services.topup_create(user=user, amount=Decimal("150000.00"))
            services.topup_simulate_payment(topup=topup, transaction_status="settlement")
            Wallet.objects.get_or_create(user=user)
            observer = PostgresObserver()
            try:
                with private_queue() as queue:
                    worker = WorkerProcess(queue).start()
                    try:
                        with transaction.atomic():
                            Wallet.objects.select_for_update().get(user=user)
                            me = backend_pid()
                            # when: the status sync runs in the worker and waits for the wallet...
                            topup_sync_task.delay(str(topup.pk))
                            (dead,) = wait_for(lambda: observer.blocked_by(me), what="the sync to wait for the wallet")
                            # ... where its pool process is SIGKILLed (the OOM killer's way)
                            worker.kill_pool_process()
                            # then: the message goes back to the queue, and a new pool process takes
                            # it up and waits for the wallet behind the dead one's session
                            wait_for(lambda: observer.blocked_by(dead), what="the task to run again")
                        wait_for(
                            lambda: Transaction.objects.filter(pk=topup.pk, status="COMPLETED").exists(),
                            what="the task run again to credit the top-up",
                        )
                    finally:
                        worker.kill()
            finally:
                observer.close()

    # and the top-up is credited once, with one invoice
    assert Wallet.objects.get(user=user).balance == Decimal("150000.00")
    assert Transaction.objects.filter(user=user, status="COMPLETED").count() == 1
    assert Invoice.objects.filter(transaction=topup).count() == 1
