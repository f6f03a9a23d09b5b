"""Per-user limits on the writes that move money or cost real work (UserActionThrottle)."""

from datetime import UTC, datetime

import pytest
import time_machine

from billing.models import Transaction
from billing.tests.factories import completed_topup
from catalog.services import catalog_seed
from conftest import client_for
from notifications.models import WebhookDelivery
from notifications.tests.factories import WebhookEndpointFactory
from paas.models import IdempotencyRecord
from paas.tests.threads import run_in_threads
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db

TOPUPS = "/api/v1/billing/topups"
SUBS = "/api/v1/subscriptions"
HOUR = 3600


@pytest.fixture
def rates(settings):
    """Set some per-user rates for this test (the throttle reads them at request time)."""

    def set_rates(**overrides: str) -> None:
        framework = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {
            **framework,
            "DEFAULT_THROTTLE_RATES": {**framework["DEFAULT_THROTTLE_RATES"], **overrides},
        }

    return set_rates


@pytest.fixture
def clock():
    """Time starts one minute into a clock hour, so an hourly window cannot end mid-test."""
    now = datetime.now(tz=UTC).timestamp()
    start = (now // HOUR + 1) * HOUR + 60
    with time_machine.travel(start, tick=True) as traveller:
        yield traveller


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= HOUR
    assert error["details"]["retry_after"] == retry_after
    return retry_after


def _topup(client, **headers):
    return client.post(TOPUPS, {"amount": "50000.00"}, format="json", **headers)


# --- top-ups ----------------------------------------------------------------------------------


def test_the_topup_past_the_rate_is_429_with_retry_after_and_creates_nothing(rates, clock, user, other_user):
    rates(topup="3/hour")
    client = client_for(user)
    assert [_topup(client).status_code for _ in range(3)] == [201, 201, 201]

    retry_after = assert_throttled(_topup(client))

    assert HOUR - 120 <= retry_after <= HOUR - 60
    assert Transaction.objects.filter(user=user).count() == 3
    # The limit is this user's: another account tops up as usual.
    assert _topup(client_for(other_user)).status_code == 201
    # Reads are never counted.
    assert client.get("/api/v1/billing/transactions").status_code == 200
    # Once the window has passed, the user may top up again.
    clock.shift(retry_after)
    assert _topup(client_for(user)).status_code == 201


def test_a_throttled_request_never_claims_its_idempotency_key(rates, clock, user):
    rates(topup="1/hour")
    client = client_for(user)
    assert _topup(client, HTTP_IDEMPOTENCY_KEY="first").status_code == 201

    assert_throttled(_topup(client, HTTP_IDEMPOTENCY_KEY="second"))

    assert not IdempotencyRecord.objects.filter(user=user, key="second").exists()
    # After the wait, the same key is free: the request runs instead of answering 409 or a stored 429.
    clock.shift(HOUR)
    retried = _topup(client_for(user), HTTP_IDEMPOTENCY_KEY="second")
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Transaction.objects.filter(user=user).count() == 2


def test_replaying_a_stored_idempotent_response_is_not_counted(rates, clock, user):
    rates(topup="2/hour")
    client = client_for(user)
    first = _topup(client, HTTP_IDEMPOTENCY_KEY="pay-1")

    replays = [_topup(client, HTTP_IDEMPOTENCY_KEY="pay-1") for _ in range(3)]

    assert [r.status_code for r in replays] == [201] * 3
    assert {r.json()["id"] for r in replays} == {first.json()["id"]}
    assert all(r["Idempotent-Replayed"] == "true" for r in replays)
    # Only the first request counted: one more new top-up fits in the rate, the next does not.
    assert _topup(client, HTTP_IDEMPOTENCY_KEY="pay-2").status_code == 201
    assert_throttled(_topup(client, HTTP_IDEMPOTENCY_KEY="pay-3"))
    assert Transaction.objects.filter(user=user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_parallel_topups_gets_exactly_the_rate(rates, clock, user):
    rates(topup="3/hour")
    clients = [client_for(user) for _ in range(10)]
    statuses = run_in_threads(10, lambda i: _topup(clients[i]).status_code)

    assert sorted(statuses) == [201] * 3 + [429] * 7, statuses
    assert Transaction.objects.filter(user=user).count() == 3


# --- subscriptions ----------------------------------------------------------------------------


@pytest.fixture
def funded(cluster):
    """Users with money for several purchases of n8n starter."""
    catalog_seed()

    def fund(user, amount="500000.00"):
        completed_topup(user=user, amount=amount)
        return user

    return fund


def _buy(client):
    return client.post(SUBS, {"service": "n8n", "plan": "starter"}, format="json")


def _ledger(user) -> list:
    return list(Transaction.objects.filter(user=user).order_by("id").values_list("id", "status", "amount"))


def test_the_purchase_past_the_rate_is_429_and_charges_nothing(rates, clock, funded, user, other_user):
    rates(purchase="2/hour")
    client = client_for(funded(user))
    assert [_buy(client).status_code for _ in range(2)] == [201, 201]
    ledger = _ledger(user)

    assert_throttled(_buy(client))

    assert Subscription.objects.filter(user=user).count() == 2
    assert _ledger(user) == ledger
    assert _buy(client_for(funded(other_user))).status_code == 201
    assert client.get(SUBS).status_code == 200


def test_plan_changes_renewals_and_cancellations_share_one_rate(rates, clock, funded, user):
    rates(subscription_change="1/hour")
    client = client_for(funded(user))
    subscription = _buy(client).json()
    base = f"{SUBS}/{subscription['id']}"
    assert client.post(f"{base}/renew").status_code == 200
    ledger = _ledger(user)

    assert_throttled(client.post(f"{base}/change-plan", {"plan": "pro"}, format="json"))
    assert_throttled(client.post(f"{base}/cancel", {"immediate": True}, format="json"))

    assert Subscription.objects.get(pk=subscription["id"]).plan.slug == "starter"
    assert Subscription.objects.get(pk=subscription["id"]).status == Subscription.Status.ACTIVE
    assert _ledger(user) == ledger
    # Editing the subscription is not a counted action.
    assert client.patch(base, {"name": "Renamed"}, format="json").status_code == 200


def test_app_restarts_stops_and_starts_share_one_rate(rates, clock, funded, user):
    rates(instance_action="1/hour")
    client = client_for(funded(user))
    subscription = _buy(client).json()
    base = f"{SUBS}/{subscription['id']}/instance"
    assert client.post(f"{base}/restart").status_code == 202

    assert_throttled(client.post(f"{base}/stop"))

    instance = Subscription.objects.get(pk=subscription["id"]).instance
    assert instance.desired_state == "RUNNING"


# --- webhooks ---------------------------------------------------------------------------------


def test_the_webhook_test_past_the_rate_is_429_and_sends_nothing(rates, clock, user, other_user):
    rates(webhook_test="2/hour")
    endpoint = WebhookEndpointFactory(user=user)
    client = client_for(user)
    assert [client.post(f"/api/v1/webhooks/{endpoint.pk}/test").status_code for _ in range(2)] == [202, 202]

    assert_throttled(client.post(f"/api/v1/webhooks/{endpoint.pk}/test"))

    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
    theirs = WebhookEndpointFactory(user=other_user)
    assert client_for(other_user).post(f"/api/v1/webhooks/{theirs.pk}/test").status_code == 202
