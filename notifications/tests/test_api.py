"""The REST API: /notifications and /webhooks, scoped to the caller, in the error envelope."""

import json

import pytest
from django.core import mail

from conftest import client_for
from notifications import services
from notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from notifications.services import WEBHOOK_MAX_ENDPOINTS_PER_USER, WEBHOOK_SEAL_PURPOSE, webhook_secret
from paas import crypto

from .factories import EmailMessageFactory, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks"


# --- /notifications ---------------------------------------------------------------------------------


def test_notifications_lists_only_my_emails(user, other_user, user_client):
    mine = EmailMessageFactory(user=user, template="payment-received", subject="Payment received: IDR 150,000.00")
    EmailMessageFactory(user=other_user)

    response = user_client.get("/api/v1/notifications")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["results"][0]
    assert set(item) == {"id", "subject", "template", "status", "sent_at", "created_at"}
    assert (item["id"], item["template"], item["status"]) == (str(mine.pk), "payment-received", "SENT")


def test_notifications_filter_by_status(user, user_client):
    EmailMessageFactory(user=user)
    failed = EmailMessageFactory(user=user, status=EmailMessage.Status.FAILED, sent_at=None)

    response = user_client.get("/api/v1/notifications?status=FAILED")

    assert [r["id"] for r in response.json()["results"]] == [str(failed.pk)]
    refused = user_client.get("/api/v1/notifications?status=NOPE")
    assert refused.status_code == 400
    assert "status" in refused.json()["error"]["details"]


@pytest.mark.parametrize("method", ["post", "patch", "delete", "put"])
def test_notifications_are_read_only(method, user, user_client):
    message = EmailMessageFactory(user=user)

    response = getattr(user_client, method)("/api/v1/notifications", [{"id": str(message.pk)}], format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert EmailMessage.objects.get(pk=message.pk).status == message.status


def test_notifications_need_authentication(api_client):
    response = api_client.get("/api/v1/notifications")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("size", [1, 15])
def test_notifications_list_runs_constant_queries(size, user, user_client, django_assert_num_queries):
    EmailMessageFactory.create_batch(size, user=user)

    with django_assert_num_queries(2):  # user (auth; then cached), the page with its count
        response = user_client.get("/api/v1/notifications")

    assert response.json()["count"] == size


# --- /webhooks --------------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_stores_it_sealed(user, user_client):
    response = user_client.post(
        WEBHOOKS,
        {
            "url": "https://hooks.example.com/paas",
            "events": ["payment.succeeded", "instance.ready", "payment.succeeded"],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body["events"] == ["instance.ready", "payment.succeeded"]
    assert body["is_active"] is True
    endpoint = WebhookEndpoint.objects.get(pk=body["id"], user=user)
    assert secret not in endpoint.secret_sealed
    assert webhook_secret(endpoint) == secret

    detail = user_client.get(f"{WEBHOOKS}/{endpoint.pk}").json()
    listing = user_client.get(WEBHOOKS).json()["results"][0]
    for shown in (detail, listing):
        assert "secret" not in shown and secret not in str(shown)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"events": ["payment.succeeded"]}, "url"),
        ({"url": "https://hooks.example.com/x", "events": []}, "events"),
        ({"url": "https://hooks.example.com/x", "events": ["payment.refunded"]}, "events"),
        ({"url": "https://hooks.example.com/x", "events": "payment.succeeded"}, "events"),
        ({"url": "not a url", "events": ["payment.succeeded"]}, "url"),
        ({"url": "https://hooks.example.com/x", "events": ["user.registered"]}, "events"),  # email only
    ],
)
def test_create_validates_input(payload, field, user_client):
    response = user_client.post(WEBHOOKS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert not WebhookEndpoint.objects.exists()


def test_create_is_limited_per_account(user, user_client):
    WebhookEndpointFactory.create_batch(WEBHOOK_MAX_ENDPOINTS_PER_USER, user=user)

    response = user_client.post(WEBHOOKS, {"url": "https://a.example.com/", "events": ["balance.low"]}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "limit_reached"
    assert WebhookEndpoint.objects.filter(user=user).count() == WEBHOOK_MAX_ENDPOINTS_PER_USER


@pytest.mark.parametrize("size", [1, 12])
def test_list_shows_only_mine_in_constant_queries(size, user, other_user, user_client, django_assert_num_queries):
    WebhookEndpointFactory.create_batch(size, user=user)
    WebhookEndpointFactory(user=other_user)

    with django_assert_num_queries(2):
        response = user_client.get(WEBHOOKS)

    assert response.status_code == 200
    assert response.json()["count"] == size


def test_patch_changes_fields_and_re_enabling_clears_failures(user, user_client):
    endpoint = WebhookEndpointFactory(user=user, is_active=False, consecutive_failures=5, disabled_reason="dead")

    response = user_client.patch(
        f"{WEBHOOKS}/{endpoint.pk}",
        {"events": ["balance.low"], "is_active": True, "description": "ops channel"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["events"], body["is_active"], body["consecutive_failures"], body["description"]) == (
        ["balance.low"],
        True,
        0,
        "ops channel",
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.events == ["balance.low"] and endpoint.disabled_reason == ""


def test_patch_with_bad_events_changes_nothing(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)

    response = user_client.patch(f"{WEBHOOKS}/{endpoint.pk}", {"events": [], "is_active": False}, format="json")

    assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.events == ["payment.succeeded", "instance.ready"]


def test_put_is_not_offered(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)

    response = user_client.put(
        f"{WEBHOOKS}/{endpoint.pk}", {"url": "https://x.example.com/", "events": []}, format="json"
    )

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).url == endpoint.url


def test_delete_removes_the_endpoint_and_its_log(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)
    WebhookDeliveryFactory(endpoint=endpoint)

    response = user_client.delete(f"{WEBHOOKS}/{endpoint.pk}")

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "method, suffix",
    [("get", ""), ("patch", ""), ("delete", ""), ("get", "/deliveries"), ("post", "/test")],
)
def test_another_users_endpoint_is_not_found(method, suffix, other_user, user_client):
    endpoint = WebhookEndpointFactory(user=other_user)
    WebhookDeliveryFactory(endpoint=endpoint)

    response = getattr(user_client, method)(f"{WEBHOOKS}/{endpoint.pk}{suffix}", {"is_active": False}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


@pytest.mark.parametrize("ref", ["not-a-uuid", "1", "%00", "gh%C3%B6st", "x" * 300])
@pytest.mark.parametrize(
    "method, suffix",
    [("get", ""), ("patch", ""), ("delete", ""), ("get", "/deliveries"), ("post", "/test")],
)
def test_a_malformed_id_is_not_found(ref, method, suffix, user, user_client):
    WebhookEndpointFactory(user=user)

    response = getattr(user_client, method)(f"{WEBHOOKS}/{ref}{suffix}", {"is_active": False}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert WebhookEndpoint.objects.filter(user=user, is_active=True).count() == 1
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("size", [1, 10])
def test_deliveries_list_in_constant_queries(size, user, user_client, django_assert_num_queries):
    endpoint = WebhookEndpointFactory(user=user)
    WebhookDeliveryFactory.create_batch(size, endpoint=endpoint)
    WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(user=user))  # another endpoint of mine

    with django_assert_num_queries(3):  # user (then cached), endpoint, the page with its count
        response = user_client.get(f"{WEBHOOKS}/{endpoint.pk}/deliveries")

    body = response.json()
    assert body["count"] == size
    assert {"id", "event", "status", "attempts", "response_status", "latency_ms", "last_error"} <= set(
        body["results"][0]
    )
    assert "body" not in body["results"][0]


def test_deliveries_filter_by_status(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)
    WebhookDeliveryFactory(endpoint=endpoint)
    failed = WebhookDeliveryFactory(endpoint=endpoint, status=WebhookDelivery.Status.FAILED)

    response = user_client.get(f"{WEBHOOKS}/{endpoint.pk}/deliveries?status=FAILED")

    assert [d["id"] for d in response.json()["results"]] == [str(failed.pk)]


def test_test_ping_is_delivered_to_the_receiver(
    user, user_client, receiver, allow_private, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(user=user, url=receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(f"{WEBHOOKS}/{endpoint.pk}/test")

    assert response.status_code == 202
    assert response.json()["event"] == "ping"
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["x-paas-event"] == "ping"
    assert receiver.requests[0].json()["data"]["endpoint"]["id"] == str(endpoint.pk)
    delivery = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert (delivery.status, delivery.max_attempts) == (WebhookDelivery.Status.SUCCEEDED, 1)


def test_the_whole_flow_as_a_client_sees_it(user, receiver, allow_private, django_capture_on_commit_callbacks):
    client = client_for(user)
    created = client.post(WEBHOOKS, {"url": receiver.url, "events": ["instance.ready"]}, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        services.emit(
            "instance.ready",
            user=user,
            payload={
                "instance": {
                    "id": "9a8b",
                    "name": "Team automations",
                    "service": "n8n",
                    "status": "RUNNING",
                    "url": "https://n8n-1.apps.example.com",
                },
            },
        )

    deliveries = client.get(f"{WEBHOOKS}/{created['id']}/deliveries").json()["results"]
    assert [(d["event"], d["status"], d["response_status"]) for d in deliveries] == [
        ("instance.ready", "SUCCEEDED", 200)
    ]
    emails = client.get("/api/v1/notifications").json()["results"]
    assert [(e["template"], e["status"], e["subject"]) for e in emails] == [
        ("service-ready", "SENT", "Team automations is ready")
    ]
    assert "https://n8n-1.apps.example.com" in mail.outbox[0].body


def test_sealed_secret_does_not_open_for_another_purpose(user):
    endpoint = WebhookEndpointFactory(user=user)

    with pytest.raises(crypto.SealError):
        crypto.unseal(endpoint.secret_sealed, purpose="notifications.email-context")
    assert crypto.unseal(endpoint.secret_sealed, purpose=WEBHOOK_SEAL_PURPOSE).startswith("whsec_")


# --- Junk input: always a 4xx in the envelope, and nothing changes ----------------------------------

JUNK_BODIES = [
    [],
    [{"url": "https://hooks.example.com/x", "events": ["balance.low"]}],
    None,
    "https://hooks.example.com/x",
    42,
    {"url": None, "events": None},
    {"url": {"href": "https://hooks.example.com/x"}, "events": ["balance.low"]},
    {"url": "https://hooks.example.com/x", "events": [None]},
    {"url": "https://hooks.example.com/x", "events": [["balance.low"]]},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"] * 100},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"], "secret": "whsec_mine"},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"], "user": "00000000-0000-0000-0000-000000000000"},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"], "description": ["x"]},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"], "description": "x" * 256},
    {"url": "https://hooks.example.com:99999/x", "events": ["balance.low"]},
    {"url": "http://[::1/", "events": ["balance.low"]},
    {"url": "https://" + "a" * 3000 + ".example.com/", "events": ["balance.low"]},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"], "is_active": "maybe"},
    {"url": "https://hooks.example.com/x", "events": ["balance.low"], "is_actve": False},
]


def _webhook_state() -> list:
    return list(WebhookEndpoint.objects.order_by("pk").values_list("pk", "url", "events", "is_active", "updated_at"))


@pytest.mark.parametrize("body", JUNK_BODIES)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_webhook_writes_refuse_junk_and_change_nothing(method, body, user, user_client):
    endpoint = WebhookEndpointFactory(user=user)
    url = WEBHOOKS if method == "post" else f"{WEBHOOKS}/{endpoint.pk}"
    before = _webhook_state()

    response = getattr(user_client, method)(url, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "validation_error"
    assert "whsec_" not in response.content.decode()
    assert _webhook_state() == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ("{", "application/json", 400),
        ("1e999999", "application/json", 400),
        ("url=https://hooks.example.com/x&events=balance.low", "application/x-www-form-urlencoded", 415),
        ("<url/>", "text/xml", 415),
    ],
)
def test_webhook_writes_refuse_unparsable_bodies(raw, content_type, status, user, user_client):
    endpoint = WebhookEndpointFactory(user=user)
    before = _webhook_state()

    for url, method in ((WEBHOOKS, "post"), (f"{WEBHOOKS}/{endpoint.pk}", "patch")):
        response = getattr(user_client, method)(url, data=raw, content_type=content_type)
        assert response.status_code == status
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert _webhook_state() == before


def test_patch_with_an_unknown_field_names_it_and_changes_nothing(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)

    response = user_client.patch(f"{WEBHOOKS}/{endpoint.pk}", {"is_actve": False}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"is_actve": ["Unknown field."]}
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active


def test_an_empty_patch_changes_nothing(user, user_client):
    endpoint = WebhookEndpointFactory(user=user)

    response = user_client.patch(f"{WEBHOOKS}/{endpoint.pk}", {}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == str(endpoint.pk)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).updated_at == endpoint.updated_at
