"""/subscriptions as a client uses it."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from billing.models import Transaction
from catalog.models import Plan
from conftest import client_for
from pods import services as pods
from pods.models import InstanceEvent, ServiceInstance
from pods.services.history import event_record
from pods.tests.factories import seeded_plan
from subscriptions import services
from subscriptions.models import Subscription

from .factories import buy, fund

pytestmark = pytest.mark.django_db

SUBS = "/api/v1/subscriptions"


def _post(client, body, **headers):
    return client.post(SUBS, body, format="json", **headers)


def test_buying_answers_the_contract_shape(user_client, user, cluster, django_capture_on_commit_callbacks):
    fund(user, "75000.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            user_client, {"service": "n8n", "plan": "starter", "name": "Flows", "config": {"timezone": "UTC"}}
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= {
        "id", "name", "service", "plan", "status", "auto_renew", "current_period_start",
        "current_period_end", "grace_until", "instance", "created_at",
    }  # fmt: skip
    assert (body["status"], body["name"], body["service"]["slug"], body["plan"]["slug"]) == (
        "ACTIVE", "Flows", "n8n", "starter",
    )  # fmt: skip
    assert set(body["instance"]) >= {
        "id", "status", "desired_state", "url", "namespace", "status_message", "usage", "updated_at",
    }  # fmt: skip
    # The answer is immediate; provisioning starts once the purchase has committed.
    assert body["instance"]["status"] == "PENDING"
    instance = ServiceInstance.objects.get(pk=body["instance"]["id"])
    assert instance.config["timezone"] == "UTC" and instance.status == "PROVISIONING"


def test_short_of_money_is_402_with_the_amounts_and_nothing_is_made(user_client, user, cluster):
    fund(user, "10000.00")
    response = _post(user_client, {"service": "n8n", "plan": "starter"})
    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": "insufficient_balance",
        "message": "The balance does not cover this amount.",
        "details": {"balance": "10000.00", "required": "75000.00"},
    }
    assert not Subscription.objects.exists() and not ServiceInstance.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "joomla", "plan": "starter"}, "service"),
        ({"service": "n8n", "plan": "platinum"}, "plan"),
        ({"service": "n8n"}, "plan"),
        ({"service": "n8n", "plan": "starter", "config": {"timezone": "Mars/Base"}}, "config.timezone"),
        ({"service": "n8n", "plan": "starter", "config": {"colour": "red"}}, "config.colour"),
        ({"service": "n8n", "plan": "starter", "config": ["x"]}, "config"),
        ({"service": "n8n", "plan": "starter", "name": "a\nb"}, "name"),
        ({"service": "n8n", "plan": "starter", "name": "x" * 101}, "name"),
        ({"service": "n8n", "plan": "starter", "price": "1.00"}, "price"),
        ({"service": "../../etc", "plan": "starter"}, "service"),
        ({"service": 7, "plan": "starter"}, "service"),
    ],
)
def test_bad_purchases_are_400_and_change_nothing(user_client, user, cluster, body, field):
    fund(user, "75000.00")
    response = _post(user_client, body)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert not Subscription.objects.exists() and Transaction.objects.filter(type="CHARGE").count() == 0


def test_inactive_plans_and_services_are_not_sold(user_client, user, cluster):
    fund(user, "150000.00")
    plan = seeded_plan("ghost", "pro")
    Plan.objects.filter(pk=plan.pk).update(is_active=False)
    assert "plan" in _post(user_client, {"service": "ghost", "plan": "pro"}).json()["error"]["details"]
    plan.service.is_active = False
    plan.service.save()
    assert "service" in _post(user_client, {"service": "ghost", "plan": "starter"}).json()["error"]["details"]


def test_the_same_idempotency_key_buys_once(user_client, user, cluster):
    fund(user, "150000.00")
    first = _post(user_client, {"service": "n8n", "plan": "starter"}, HTTP_IDEMPOTENCY_KEY="buy-1")
    again = _post(user_client, {"service": "n8n", "plan": "starter"}, HTTP_IDEMPOTENCY_KEY="buy-1")
    other = _post(user_client, {"service": "n8n", "plan": "pro"}, HTTP_IDEMPOTENCY_KEY="buy-1")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_mismatch"
    assert Subscription.objects.count() == 1


def test_the_live_subscription_limit_is_a_409(user_client, user, cluster, settings):
    settings.SUBSCRIPTIONS_MAX_PER_USER = 1
    fund(user, "150000.00")
    assert _post(user_client, {"service": "n8n", "plan": "starter"}).status_code == 201
    response = _post(user_client, {"service": "n8n", "plan": "starter"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "subscription_limit_reached"
    assert Transaction.objects.filter(type="CHARGE").count() == 1


def test_another_customers_subscription_is_a_404_on_every_route(user, cluster):
    subscription = buy(user)
    stranger = client_for(UserFactory())
    base = f"{SUBS}/{subscription.pk}"
    for method, path in [
        ("get", base),
        ("patch", base),
        ("post", f"{base}/cancel"),
        ("post", f"{base}/renew"),
        ("post", f"{base}/change-plan"),
        ("post", f"{base}/instance/restart"),
        ("post", f"{base}/instance/stop"),
        ("post", f"{base}/instance/start"),
        ("get", f"{base}/instance/logs"),
        ("get", f"{base}/events"),
    ]:
        response = getattr(stranger, method)(path, {}, format="json") if method != "get" else stranger.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.get(SUBS).json()["count"] == 0
    assert stranger.get(f"{SUBS}/{uuid.uuid4()}").status_code == 404
    assert stranger.get(f"{SUBS}/not-an-id").status_code == 404


def test_the_list_costs_the_same_queries_whatever_its_size(user_client, user, cluster):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert user_client.get(f"{SUBS}?page_size=100").status_code == 200
        return len(ctx.captured_queries)

    buy(user)
    count()  # the first request also reads the caller's row into the cache
    small = count()
    for service in ("ghost", "wordpress", "n8n", "ghost"):
        buy(user, service=service)
    assert count() == small


def test_patch_renames_and_turns_renewal_off(user_client, user, cluster):
    subscription = buy(user)
    response = user_client.patch(f"{SUBS}/{subscription.pk}", {"name": "Renamed", "auto_renew": False}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed" and not response.json()["auto_renew"]
    host = ServiceInstance.objects.get(pk=subscription.instance_id).host
    assert host.startswith("n8n-")  # the app keeps its address
    assert user_client.patch(f"{SUBS}/{subscription.pk}", {"status": "ACTIVE"}, format="json").status_code == 400
    assert user_client.patch(f"{SUBS}/{subscription.pk}", {"auto_renew": "perhaps"}, format="json").status_code == 400


def test_cancel_at_period_end_then_immediately_with_the_refund(user_client, user, cluster):
    subscription = buy(user)
    response = user_client.post(f"{SUBS}/{subscription.pk}/cancel", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "ACTIVE" and response.json()["cancel_at_period_end"] is True

    with time_machine.travel(subscription.current_period_start + timedelta(days=15), tick=False):
        user_client = client_for(user)  # a token of that day
        response = user_client.post(f"{SUBS}/{subscription.pk}/cancel", {"immediate": True}, format="json")
        again = user_client.post(f"{SUBS}/{subscription.pk}/cancel", {"immediate": True}, format="json")
        assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
        bad = user_client.post(f"{SUBS}/{subscription.pk}/cancel", {"immediate": "yes"}, format="json")
        assert bad.status_code == 400
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    refund = Transaction.objects.get(subscription_id=subscription.pk, type="REFUND")
    assert refund.amount == subscription.plan.price_monthly / 2


def test_renew_pays_ahead_and_resumes_a_suspended_one(user_client, user, cluster, django_capture_on_commit_callbacks):
    subscription = buy(user)
    end = subscription.current_period_end
    # Just bought: the period is paid, a renew charges nothing.
    assert user_client.post(f"{SUBS}/{subscription.pk}/renew").status_code == 200
    with time_machine.travel(subscription.current_period_start + timedelta(days=1), tick=False):
        user_client = client_for(user)
        assert user_client.post(f"{SUBS}/{subscription.pk}/renew").status_code == 402
        fund(user, "75000.00")
        body = user_client.post(f"{SUBS}/{subscription.pk}/renew").json()
    assert body["current_period_end"].startswith((end + timedelta(days=30)).date().isoformat())

    with (
        time_machine.travel(end + timedelta(days=30, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        user_client = client_for(user)
        services.billing_clock()
        suspended = user_client.get(f"{SUBS}/{subscription.pk}")
        assert suspended.json()["status"] == "SUSPENDED", suspended.json()
        start = user_client.post(f"{SUBS}/{subscription.pk}/instance/start")
        assert start.status_code == 409  # no free app while unpaid
        with django_capture_on_commit_callbacks(execute=True):
            fund(user, "75000.00")  # resumes it automatically
        assert user_client.get(f"{SUBS}/{subscription.pk}").json()["status"] == "ACTIVE"


def test_change_plan_through_the_api(user_client, user, cluster):
    subscription = buy(user)
    fund(user, "100000.00")
    response = user_client.post(f"{SUBS}/{subscription.pk}/change-plan", {"plan": "pro"}, format="json")
    assert response.status_code == 200 and response.json()["plan"]["slug"] == "pro"
    ghost_plan = seeded_plan("ghost", "pro")
    wrong = user_client.post(f"{SUBS}/{subscription.pk}/change-plan", {"plan": str(ghost_plan.pk)}, format="json")
    assert wrong.status_code == 400 and "plan" in wrong.json()["error"]["details"]


def test_instance_controls_logs_and_history(user_client, user, cluster):
    subscription = buy(user)
    pods.reconcile(subscription.instance_id)
    cluster.tick()
    pods.reconcile(subscription.instance_id)
    base = f"{SUBS}/{subscription.pk}"

    logs = user_client.get(f"{base}/instance/logs?tail=3")
    assert logs.status_code == 200 and len(logs.json()["lines"]) <= 3
    restart = user_client.post(f"{base}/instance/restart")
    assert restart.status_code == 202 and restart.json()["desired_state"] == "RUNNING"
    stop = user_client.post(f"{base}/instance/stop")
    assert stop.status_code == 202 and stop.json()["desired_state"] == "STOPPED"
    assert user_client.post(f"{base}/instance/restart").status_code == 409

    history = user_client.get(f"{base}/events").json()
    reasons = [(e["source"], e["reason"], e["by"]) for e in history["results"]]
    assert ("instance", "StopRequested", "owner") in reasons
    assert ("subscription", "Purchased", "owner") in reasons
    assert ("instance", "Ready", "platform") in reasons
    assert history["count"] == len(reasons)


def test_the_cluster_s_own_error_words_stay_with_operators(user_client, admin_client, user, cluster):
    subscription = buy(user)
    pods.reconcile(subscription.instance_id)
    instance = subscription.instance
    event_record(instance, kind=InstanceEvent.Kind.CLUSTER, reason="ClusterUnreachable", message="apiserver 10.0.0.1")

    history = user_client.get(f"{SUBS}/{subscription.pk}/events").json()
    assert "ClusterUnreachable" not in [e["reason"] for e in history["results"]]
    assert history["count"] == len(history["results"])
    operators = admin_client.get(f"/api/v1/admin/pods/{instance.pk}").json()
    assert "ClusterUnreachable" in [e["reason"] for e in operators["recent_events"]]


def test_the_balance_says_when_the_money_runs_out(user_client, user, cluster):
    subscription = buy(user)
    fund(user, "100000.00")
    body = user_client.get("/api/v1/billing/balance").json()
    # 100,000 pays the next renewal (75,000), not the one after it: that is when it runs out.
    assert body["runs_out_at"].startswith((subscription.current_period_end + timedelta(days=30)).date().isoformat())
    assert body["runway_days"] in (59, 60)
