"""Idempotency-Key on money-moving POSTs (paas.api.idempotency)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.db import OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.response import Response

from billing.models import Transaction
from paas.api import idempotency
from paas.api.idempotency import idempotency_records_purge
from paas.models import IdempotencyRecord
from paas.tasks import idempotency_records_purge_task

from .factories import completed_topup

pytestmark = pytest.mark.django_db

TOPUPS = "/api/v1/billing/topups"


def _post(client, body, key):
    return client.post(TOPUPS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_twice_returns_the_same_response_and_creates_one_topup(user_client, user):
    first = _post(user_client, {"amount": "50000.00"}, "k-123")
    second = _post(user_client, {"amount": "50000.00"}, "k-123")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Transaction.objects.filter(user=user).count() == 1


def test_without_a_key_each_post_is_new(user_client, user):
    _post_plain = lambda: user_client.post(TOPUPS, {"amount": "50000.00"}, format="json")  # noqa: E731
    assert _post_plain().json()["id"] != _post_plain().json()["id"]
    assert Transaction.objects.filter(user=user).count() == 2


def test_same_key_with_a_different_body_is_422(user_client, user):
    _post(user_client, {"amount": "50000.00"}, "k-1")

    response = _post(user_client, {"amount": "60000.00"}, "k-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_mismatch"
    assert Transaction.objects.filter(user=user).count() == 1


def test_keys_are_per_user(user_client, other_client, user, other_user):
    mine = _post(user_client, {"amount": "50000.00"}, "shared")
    theirs = _post(other_client, {"amount": "50000.00"}, "shared")

    assert mine.json()["id"] != theirs.json()["id"]
    assert Transaction.objects.filter(user=other_user).count() == 1


def test_a_refused_request_releases_the_key(user_client, user):
    refused = _post(user_client, {"amount": "5.00"}, "k-retry")
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()

    # The same key with the corrected body is a new request, not a 422 mismatch.
    fixed = _post(user_client, {"amount": "50000.00"}, "k-retry")
    assert fixed.status_code == 201, fixed.content
    assert Transaction.objects.get(user=user).amount == Decimal("50000.00")
    assert IdempotencyRecord.objects.get(key="k-retry").state == IdempotencyRecord.State.COMPLETED


def test_a_gateway_failure_is_kept_and_replayed(user_client, user, settings):
    settings.PAYMENT_GATEWAY = "midtrans"
    with responses.RequestsMock() as mock:
        mock.post("https://app.sandbox.midtrans.com/snap/v1/transactions", json={"error": "x"}, status=500)
        first = _post(user_client, {"amount": "50000.00"}, "k-502")
        second = _post(user_client, {"amount": "50000.00"}, "k-502")
        assert len(mock.calls) == 1  # the gateway was asked once

    assert first.status_code == second.status_code == 502
    assert second.json() == first.json()
    assert Transaction.objects.filter(user=user, status="FAILED").count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünicode"])
def test_malformed_keys_are_400(user_client, key):
    response = user_client.post(TOPUPS, {"amount": "50000.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Transaction.objects.exists()


def test_a_key_older_than_24_hours_starts_over(user_client, user):
    first = _post(user_client, {"amount": "50000.00"}, "old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = _post(user_client, {"amount": "50000.00"}, "old")

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]


def test_an_in_progress_key_is_409_until_abandoned(user_client, user):
    now = timezone.now()
    record = IdempotencyRecord.objects.create(
        user=user, key="busy", fingerprint="x", method="POST", path=TOPUPS, created_at=now, updated_at=now
    )

    body = {"amount": "50000.00"}
    first = _post(user_client, body, "other")  # learn the fingerprint of this request
    record.fingerprint = IdempotencyRecord.objects.get(key="other").fingerprint
    record.save()

    busy = _post(user_client, body, "busy")
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "idempotency_key_in_use"

    IdempotencyRecord.objects.filter(pk=record.pk).update(updated_at=now - timedelta(minutes=10))
    taken_over = _post(user_client, body, "busy")
    assert taken_over.status_code == 201
    assert taken_over.json()["id"] != first.json()["id"]


def test_admin_adjustment_with_a_key_posts_once(admin_client, user):
    body = {"user": str(user.pk), "amount": "5000.00", "reason": "Outage credit"}
    first = admin_client.post("/api/v1/admin/billing/adjustments", body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    second = admin_client.post("/api/v1/admin/billing/adjustments", body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Transaction.objects.filter(user=user, type="ADJUSTMENT").count() == 1


def test_admin_refund_with_a_key_replays(admin_client, user):
    topup = completed_topup(user=user)
    url = f"/api/v1/admin/billing/transactions/{topup.pk}/refund"
    first = admin_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    second = admin_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Transaction.objects.filter(user=user, type="REFUND").count() == 1


def test_purge_removes_only_expired_records(user_client, user):
    _post(user_client, {"amount": "50000.00"}, "fresh")
    _post(user_client, {"amount": "60000.00"}, "stale")
    IdempotencyRecord.objects.filter(key="stale").update(created_at=timezone.now() - timedelta(hours=30))

    assert idempotency_records_purge_task() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert idempotency_records_purge() == 0


@pytest.mark.parametrize(
    ("error", "kept"),
    [(OperationalError("server closed the connection"), True), (RedisConnectionError("refused"), False)],
    ids=["database: it may have committed", "redis: read before anything is written"],
)
def test_which_unavailable_answers_keep_their_key(error, kept):
    # A database error may come after the request committed (a purchase re-reading what it made):
    # its 503 stays on the key, so a retry cannot charge again. Redis is read before any write.
    assert idempotency._keep(Response(status=503), error) is kept
    assert idempotency._keep(Response(status=503), None) is False
