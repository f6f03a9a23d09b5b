"""Outgoing webhooks end to end: a real HTTP receiver on 127.0.0.1, signatures, retries, turning off."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from notifications import services
from notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from notifications.tasks import webhook_deliver_task, webhook_retry_due_task

from .factories import ENDPOINT_SECRET, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

PAYMENT = {
    "transaction": {
        "id": "0b3f0d9c-2f4f-4d0e-b9a7-6c1d2e3f4a5b",
        "type": "TOPUP",
        "status": "COMPLETED",
        "amount": Decimal("150000.00"),
        "order_id": "TOPUP-20260501-8F3K2Q",
        "completed_at": "2026-05-01T07:12:00Z",
    },
    "balance": Decimal("275000.00"),
}


def documented_verify():
    """The receiver's ``verify`` exactly as docs/webhooks.md tells customers to write it."""
    doc = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    section = doc.split("## Verifying the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def run_due_until_settled(time_machine, *, limit: int = 50) -> None:
    """Jump to each next attempt and run the beat sweep, until no delivery is pending."""
    for _ in range(limit):
        pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).order_by("next_attempt_at")
        if not pending.exists():
            return
        time_machine.move_to(pending.first().next_attempt_at + timedelta(seconds=1), tick=False)
        webhook_retry_due_task.delay()
    raise AssertionError("deliveries still pending")


def test_delivery_is_signed_and_verifies_with_the_documented_recipe(
    user, receiver, allow_private, django_capture_on_commit_callbacks
):
    endpoint, secret = services.webhook_endpoint_create(user=user, url=receiver.url, events=["payment.succeeded"])

    with django_capture_on_commit_callbacks(execute=True):
        services.emit("payment.succeeded", user=user, payload=PAYMENT)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    verify = documented_verify()
    assert verify(secret, request.body, request.headers["x-paas-signature"])
    assert not verify("whsec_someone-else", request.body, request.headers["x-paas-signature"])
    assert not verify(secret, request.body.replace(b"150000.00", b"990000.00"), request.headers["x-paas-signature"])
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", request.headers["x-paas-signature"])

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert request.headers["x-paas-event"] == "payment.succeeded"
    assert request.headers["x-paas-delivery"] == str(delivery.pk)
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["event"] == "payment.succeeded"
    assert body["id"] == str(delivery.event_id)
    assert body["data"]["transaction"]["amount"] == "150000.00"  # money stays a decimal string
    assert body["data"]["balance"] == "275000.00"

    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert (delivery.attempts, delivery.response_status) == (1, 200)
    assert delivery.latency_ms is not None and delivery.delivered_at is not None
    assert delivery.response_body == '{"ok": true}'
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None
    # The same event was emailed too.
    assert [m.subject for m in mail.outbox] == ["Payment received: IDR 150,000.00"]


def test_a_500_is_retried_later_with_the_same_body_and_a_fresh_signature(
    user, receiver, allow_private, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-05-01T07:00:00Z", tick=False)
    endpoint, secret = services.webhook_endpoint_create(user=user, url=receiver.url, events=["payment.succeeded"])
    receiver.answer(500)

    with django_capture_on_commit_callbacks(execute=True):
        services.emit("payment.succeeded", user=user, payload=PAYMENT)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert (delivery.attempts, delivery.response_status) == (1, 500)
    assert delivery.last_error == "The receiver answered HTTP 500."
    assert delivery.response_body == "receiver says no"
    assert delivery.next_attempt_at == timezone.now() + timedelta(seconds=services.WEBHOOK_RETRY_DELAYS[0])

    webhook_retry_due_task.delay()  # not due yet
    assert len(receiver.requests) == 1

    time_machine.shift(services.WEBHOOK_RETRY_DELAYS[0] + 1)
    assert webhook_retry_due_task.delay().get() == 1

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert (delivery.attempts, delivery.response_status, delivery.last_error) == (2, 200, "")
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-paas-delivery"] == second.headers["x-paas-delivery"] == str(delivery.pk)
    assert first.headers["x-paas-signature"] != second.headers["x-paas-signature"]
    assert documented_verify()(secret, second.body, second.headers["x-paas-signature"])
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_retry_schedule_spans_about_a_day():
    total = sum(services.WEBHOOK_RETRY_DELAYS)
    assert len(services.WEBHOOK_RETRY_DELAYS) + 1 == 8
    assert timedelta(hours=18) < timedelta(seconds=total) < timedelta(hours=30)
    assert list(services.WEBHOOK_RETRY_DELAYS) == sorted(services.WEBHOOK_RETRY_DELAYS)


def test_a_dead_endpoint_is_turned_off_and_its_owner_told(
    user, dead_url, allow_private, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    time_machine.move_to("2026-05-01T07:00:00Z", tick=False)
    endpoint, _ = services.webhook_endpoint_create(user=user, url=dead_url, events=["instance.ready"])

    with django_capture_on_commit_callbacks(execute=True):
        services.emit("instance.ready", user=user, payload={"instance": {"id": "i-1"}})
    with django_capture_on_commit_callbacks(execute=True):
        run_due_until_settled(time_machine)

    first = WebhookDelivery.objects.get(endpoint=endpoint)
    assert first.status == WebhookDelivery.Status.FAILED
    assert first.attempts == first.max_attempts == 8
    assert first.last_error.startswith("Connection failed:")
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 1  # one bad delivery is not enough

    with django_capture_on_commit_callbacks(execute=True):
        services.emit("instance.ready", user=user, payload={"instance": {"id": "i-2"}})
    with django_capture_on_commit_callbacks(execute=True):
        run_due_until_settled(time_machine)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    assert endpoint.consecutive_failures == 2
    assert endpoint.disabled_reason.startswith("2 deliveries in a row failed")
    notice = EmailMessage.objects.get(user=user, template="webhook-disabled")
    assert notice.status == EmailMessage.Status.SENT
    sent = [m for m in mail.outbox if m.subject == "Your webhook endpoint was turned off"]
    assert len(sent) == 1 and dead_url in sent[0].body

    # A turned-off endpoint receives nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        services.emit("instance.ready", user=user, payload={"instance": {"id": "i-3"}})
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_turning_an_endpoint_back_on_clears_its_failure_record(user):
    endpoint = WebhookEndpointFactory(user=user, is_active=False, consecutive_failures=5, disabled_reason="dead")
    endpoint.disabled_at = timezone.now()
    endpoint.save()

    services.webhook_endpoint_enable(endpoint=endpoint)

    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert (endpoint.consecutive_failures, endpoint.disabled_at, endpoint.disabled_reason) == (0, None, "")


def test_pending_deliveries_of_a_turned_off_endpoint_stop_without_a_request(user, receiver, allow_private):
    endpoint = WebhookEndpointFactory(user=user, url=receiver.url, is_active=False, consecutive_failures=3)
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint, status=WebhookDelivery.Status.PENDING, attempts=2, next_attempt_at=timezone.now()
    )

    webhook_deliver_task.delay(str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_error == "The endpoint is turned off."
    assert receiver.requests == []
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 3


def test_redirects_are_not_followed(user, receiver, allow_private, django_capture_on_commit_callbacks):
    receiver.default_status = 302
    receiver.location = receiver.url + "/elsewhere"
    endpoint, _ = services.webhook_endpoint_create(user=user, url=receiver.url, events=["balance.low"])

    with django_capture_on_commit_callbacks(execute=True):
        services.emit("balance.low", user=user, payload={"balance": "1000.00"})

    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.response_status == 302
    assert "Redirects are not followed" in delivery.last_error


def test_a_slow_receiver_times_out(user, receiver, allow_private, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_TIMEOUT = 0.2
    receiver.delay = 1.0
    endpoint, _ = services.webhook_endpoint_create(user=user, url=receiver.url, events=["balance.low"])

    with django_capture_on_commit_callbacks(execute=True):
        services.emit("balance.low", user=user, payload={"balance": "1000.00"})

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.last_error == "Timed out after 0.2 s."
    assert delivery.response_status is None


def test_a_delivery_is_sent_once_however_often_its_task_runs(user, receiver, allow_private):
    endpoint = WebhookEndpointFactory(user=user, url=receiver.url)
    delivery = WebhookDeliveryFactory(
        endpoint=endpoint, status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )

    for _ in range(3):
        webhook_deliver_task.delay(str(delivery.pk))
    webhook_retry_due_task.delay()

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.SUCCEEDED, 1)
    assert documented_verify()(
        ENDPOINT_SECRET, receiver.requests[0].body, receiver.requests[0].headers["x-paas-signature"]
    )


def test_emit_fans_out_only_to_subscribed_active_endpoints_of_that_user(
    user, other_user, django_capture_on_commit_callbacks
):
    subscribed = WebhookEndpointFactory(user=user, events=["payment.succeeded"])
    WebhookEndpointFactory(user=user, events=["instance.ready"])
    WebhookEndpointFactory(user=user, events=["payment.succeeded"], is_active=False)
    WebhookEndpointFactory(user=other_user, events=["payment.succeeded"])

    # The receivers' hosts do not resolve here: the deliveries stay pending, which is all we look at.
    with django_capture_on_commit_callbacks(execute=False):
        services.emit("payment.succeeded", user=user, payload=PAYMENT)

    deliveries = WebhookDelivery.objects.all()
    assert [d.endpoint_id for d in deliveries] == [subscribed.pk]
    assert json.loads(deliveries[0].body)["data"]["balance"] == "275000.00"
    assert EmailMessage.objects.filter(user=user, template="payment-received").count() == 1
    assert not EmailMessage.objects.filter(user=other_user).exists()


def test_email_only_and_email_less_events(user, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(user=user, events=["balance.low", "subscription.renewed"])

    with django_capture_on_commit_callbacks(execute=False):
        services.emit("user.registered", user=user, payload={})
        services.emit("balance.low", user=user, payload={"balance": "1000.00"})

    assert list(EmailMessage.objects.values_list("template", flat=True)) == ["welcome"]
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["balance.low"]


def test_emit_refuses_an_unknown_event(user):
    with pytest.raises(ValueError, match="Unknown event"):
        services.emit("subscription.exploded", user=user, payload={})

    assert not EmailMessage.objects.exists() and not WebhookDelivery.objects.exists()


def test_ping_is_tried_once_and_does_not_count_against_the_endpoint(
    user, dead_url, allow_private, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(user=user, url=dead_url, consecutive_failures=1)

    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.webhook_endpoint_ping(endpoint=endpoint)

    delivery.refresh_from_db()
    assert (delivery.event, delivery.status, delivery.attempts) == ("ping", WebhookDelivery.Status.FAILED, 1)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.is_active


def test_redeliver_sends_the_same_event_again(user, receiver, allow_private, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(user=user, url=receiver.url)
    original = WebhookDeliveryFactory(endpoint=endpoint, status=WebhookDelivery.Status.FAILED, attempts=8)

    with django_capture_on_commit_callbacks(execute=True):
        copy = services.webhook_delivery_redeliver(delivery=original)

    copy.refresh_from_db()
    assert copy.pk != original.pk
    assert (copy.status, copy.event_id, copy.body) == (
        WebhookDelivery.Status.SUCCEEDED,
        original.event_id,
        original.body,
    )
    assert receiver.requests[0].json()["id"] == str(original.event_id)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).last_success_at is not None
