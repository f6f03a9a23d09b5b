"""Redis down: the cache (throttle counters) and the Celery broker point at a port nothing listens
on, so every call to them really fails.

What must hold: reads are served; ``/readyz`` answers 503 and names redis; money moves only under
PostgreSQL's locks and idempotency records, which do not need Redis, so top-ups and purchases go
through, once each, and never answer a 500.
"""

import contextlib
import threading
from decimal import Decimal

import pytest
import responses
from django.db import connection
from django.test import override_settings

from accounts.tests.factories import DEFAULT_PASSWORD
from billing.models import Transaction, Wallet
from billing.tests.factories import completed_topup
from conftest import client_for
from paas.celery import app
from paas.tests.celery_worker import free_port
from pods.tests.factories import seeded_plan
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1"
SNAP_URL = "https://app.sandbox.midtrans.com/snap/v1/transactions"
SNAP_OK = {"token": "0b6c1a4e-token", "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/0b6c"}


def _reset_broker_connections() -> None:
    # The app keeps its broker connection pools: drop them so the next publish uses broker_url.
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def redis_down():
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "paas-test",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    eager, broker = app.conf.task_always_eager, app.conf.broker_write_url
    # Tasks are published for real, to the broker that is down, as the web process does (the app
    # publishes to broker_write_url, resolved from the settings when it was configured).
    app.conf.task_always_eager = False
    app.conf.broker_write_url = url
    _reset_broker_connections()
    try:
        with override_settings(CACHES={"default": cache}, REDIS_URL=url, CELERY_BROKER_URL=url):
            yield url
    finally:
        app.conf.task_always_eager = eager
        app.conf.broker_write_url = broker
        _reset_broker_connections()


@pytest.fixture
def midtrans(settings):
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_IS_PRODUCTION = False
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(SNAP_URL, json=SNAP_OK, status=201)
        yield mock


def _ledger_adds_up(user) -> None:
    completed = Transaction.objects.filter(user=user, status="COMPLETED")
    assert Wallet.objects.get(user=user).balance == sum((t.amount for t in completed), Decimal("0.00"))


def test_reads_are_served_and_readyz_names_redis(cluster, user, user_client, api_client):
    price = seeded_plan().price_monthly
    completed_topup(user=user, amount="200000.00")
    subscription = user_client.post(f"{API}/subscriptions", {"service": "n8n", "plan": "starter"}).json()

    with redis_down():
        reads = {
            path: user_client.get(f"{API}{path}")
            for path in (
                "/billing/balance",
                "/billing/transactions",
                "/billing/invoices",
                "/services",
                "/subscriptions",
                f"/subscriptions/{subscription['id']}",
                "/auth/me",
            )
        }
        ready = api_client.get("/readyz")

    assert {path: r.status_code for path, r in reads.items()} == dict.fromkeys(reads, 200)
    assert reads["/billing/balance"].json()["balance"] == f"{Decimal('200000.00') - price:.2f}"
    assert reads["/billing/transactions"].json()["count"] == 2
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "fail"
    assert ready.json()["checks"]["broker"] == "fail"
    assert ready.json()["checks"]["database"] == "ok"


def _logged(caplog, message: str) -> int:
    return sum(message in record.getMessage() for record in caplog.records)


def test_signing_in_still_works_without_the_throttle_counters(user, api_client, caplog):
    with redis_down():
        response = api_client.post(f"{API}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
        refreshed = api_client.post(f"{API}/auth/refresh", {"refresh": response.json().get("refresh")})

    assert response.status_code == 200, response.content
    assert refreshed.status_code == 200, refreshed.content
    # Per address and per email for the sign-in, per address for the refresh: skipped, and said so.
    assert _logged(caplog, "throttle skipped: the cache cannot be reached") == 3


def test_a_top_up_goes_through_once_per_idempotency_key(user, user_client, midtrans, caplog):
    with redis_down():
        first = user_client.post(f"{API}/billing/topups", {"amount": "150000.00"}, HTTP_IDEMPOTENCY_KEY="topup-1")
        again = user_client.post(f"{API}/billing/topups", {"amount": "150000.00"}, HTTP_IDEMPOTENCY_KEY="topup-1")

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.filter(user=user, type="TOPUP").count() == 1
    assert len(midtrans.calls) == 1
    assert _logged(caplog, "throttle skipped") == 1  # the replay is not counted at all


def test_purchases_charge_once_under_postgresql_locks(cluster, user, caplog):
    price = seeded_plan().price_monthly
    completed_topup(user=user, amount=f"{price * 3:.2f}")
    results = []

    def purchase(key):
        try:
            response = client_for(user).post(
                f"{API}/subscriptions", {"service": "n8n", "plan": "starter"}, HTTP_IDEMPOTENCY_KEY=key
            )
            results.append((key, response.status_code, response.json()))
        finally:
            connection.close()

    with redis_down():
        # Two clients retrying the same purchase at once, and a second, different purchase.
        threads = [threading.Thread(target=purchase, args=(key,)) for key in ("buy-1", "buy-1", "buy-2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        purchase("buy-1")  # and the same request once more, after both answered

    statuses = sorted(status for _, status, _ in results)
    assert 500 not in statuses and set(statuses) <= {201, 409}, results
    assert [s for k, s, _ in results if k == "buy-2"] == [201]
    made = {body["id"] for key, status, body in results if key == "buy-1" and status == 201}
    assert len(made) == 1, results  # every 201 for the key is the same subscription
    assert Subscription.objects.filter(user=user).count() == 2
    assert Transaction.objects.filter(user=user, type="CHARGE").count() == 2
    assert Wallet.objects.get(user=user).balance == price
    _ledger_adds_up(user)
    # The reconciles could not be queued; the instances wait for the loop to queue them again.
    assert _logged(caplog, "task not queued") >= 2
    assert set(Subscription.objects.filter(user=user).values_list("instance__status", flat=True)) == {"PENDING"}


def test_what_cannot_do_without_redis_answers_503_and_the_same_key_works_once_it_is_back(user, user_client, settings):
    # The payment simulator (local runs) keeps its payments in the cache: it cannot start one.
    settings.PAYMENT_GATEWAY = "simulator"
    body = {"amount": "150000.00"}
    with redis_down():
        refused = user_client.post(f"{API}/billing/topups", body, HTTP_IDEMPOTENCY_KEY="topup-1")

    assert refused.status_code == 503, refused.content
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert refused["Retry-After"]
    # The 503 is not stored against the key: the retry it asks for runs the request.
    retried = user_client.post(f"{API}/billing/topups", body, HTTP_IDEMPOTENCY_KEY="topup-1")
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried
    assert not Transaction.objects.filter(user=user, status="COMPLETED").exists()
