"""Junk at every billing entry point: always a 4xx in the error envelope, and nothing changes."""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from billing import services
from billing.models import PaymentNotification, Transaction, Wallet
from paas.models import IdempotencyRecord

from .conftest import WEBHOOK, ledger_snapshot
from .factories import completed_topup, notification_for

pytestmark = pytest.mark.django_db

TOPUPS = "/api/v1/billing/topups"
ADJUSTMENTS = "/api/v1/admin/billing/adjustments"


@pytest.fixture
def topup(user):
    return services.topup_create(user=user, amount=Decimal("150000.00"))


def _assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


# --- the webhook -------------------------------------------------------------------------------


def _signed_with(extra_json: str):
    """A captured, correctly signed body replayed with one more field, spliced in as raw JSON."""

    def make(topup) -> bytes:
        return (json.dumps(notification_for(topup, "settlement"))[:-1] + f', "extra": {extra_json}}}').encode()

    return make


UNACCEPTABLE_BODIES = {
    # JSON that PostgreSQL's jsonb cannot store, under a valid signature.
    "nan": _signed_with("NaN"),
    "infinity": _signed_with("Infinity"),
    "-infinity": _signed_with("-Infinity"),
    "float-overflow": _signed_with("1e999"),
    "nul-in-value": _signed_with('"a\\u0000b"'),
    "nul-in-key": _signed_with('{"k\\u0000": 1}'),
    "lone-surrogate": _signed_with('"\\ud800"'),
    "lone-surrogate-in-list": _signed_with('["\\udfff"]'),
    "lone-surrogate-in-key": _signed_with('{"\\udfff": 1}'),
    "oversized": _signed_with(json.dumps("x" * 70_000)),
    # Not JSON we can read at all.
    "deep": lambda topup: b"[" * 100_000 + b"]" * 100_000,
    "huge-int": lambda topup: b'{"order_id": ' + b"9" * 5000 + b"}",
    "utf-16": lambda topup: json.dumps(notification_for(topup, "settlement")).encode("utf-16"),
    "form": lambda topup: b"order_id=x&status_code=200",
}


@pytest.mark.parametrize("make_raw", UNACCEPTABLE_BODIES.values(), ids=UNACCEPTABLE_BODIES.keys())
def test_unacceptable_notification_body_is_400_and_stores_nothing(api_client, user, topup, make_raw):
    before = ledger_snapshot(user)

    response = api_client.post(WEBHOOK, data=make_raw(topup), content_type="application/json")

    _assert_refused(response, 400, "bad_request")
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.count() == 0
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING


def test_a_signed_body_with_a_harmless_extra_field_is_processed(api_client, user, topup):
    # The control for the cases above: splicing in a field keeps the signature valid.
    response = api_client.post(WEBHOOK, data=_signed_with('"fine"')(topup), content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "credited"
    assert PaymentNotification.objects.get().body["extra"] == "fine"


@pytest.mark.parametrize(
    "field",
    [
        {"signature_key": "é" * 128},
        {"order_id": "topup-é"},
        {"status_code": 200},
        {"gross_amount": 150000.0},
        {"signature_key": None},
        {"signature_key": ["x"]},
    ],
)
def test_unsigned_or_mistyped_signature_inputs_are_403(api_client, user, topup, field):
    before = ledger_snapshot(user)
    body = {**notification_for(topup, "settlement"), **field}

    response = api_client.post(WEBHOOK, data=json.dumps(body), content_type="application/json")

    _assert_refused(response, 403, "invalid_signature")
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.count() == 0


@pytest.mark.parametrize(
    "metadata",
    [
        "not an object",
        [1, 2],
        {"extra_info": [1]},
        {"extra_info": {"gross_amount_info": "x"}},
        {"extra_info": {"gross_amount_info": {"original_amount": 150000.5}}},
        {"extra_info": {"gross_amount_info": {"original_amount": {"a": 1}}}},
    ],
)
def test_odd_metadata_on_a_good_settlement_still_credits_once(api_client, user, topup, metadata):
    body = notification_for(topup, "settlement", metadata=metadata)

    first = api_client.post(WEBHOOK, data=json.dumps(body), content_type="application/json")
    again = api_client.post(WEBHOOK, data=json.dumps(body), content_type="application/json")

    assert first.status_code == 200, first.content
    assert (first.json()["outcome"], again.json()["outcome"]) == ("credited", "no_change")
    assert Wallet.objects.get(user=user).balance == Decimal("150000.00")


def test_odd_metadata_never_turns_a_fee_into_credit(api_client, user, topup):
    # A gross amount above ours is accepted only with a well-formed original amount equal to ours.
    body = notification_for(
        topup,
        "settlement",
        gross_amount="154000.00",
        metadata={"extra_info": {"gross_amount_info": {"original_amount": 150000.0}}},
    )
    before = ledger_snapshot(user)

    response = api_client.post(WEBHOOK, data=json.dumps(body), content_type="application/json")

    _assert_refused(response, 400, "amount_mismatch")
    assert ledger_snapshot(user) == before


# --- top-ups -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "1e5",
        "1E+5",
        "\uff11\uff10\uff10\uff10\uff10",  # fullwidth digits, which Decimal() reads as 10000
        25000.0,
        10000.5,
        " 10000",
        "10000 ",
        "10_000",
        "+10000",
        "10000.",
        "0x2710",
        True,
        [10000],
        {"value": "10000"},
        "9" * 5000,
        10**20,
        "-Infinity",
        "sNaN",
    ],
)
def test_topup_amount_junk_is_400(user_client, user, amount):
    response = user_client.post(TOPUPS, {"amount": amount}, format="json")

    _assert_refused(response, 400, "validation_error")
    assert "amount" in response.json()["error"]["details"]
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"[1]", "application/json", 400, "validation_error"),
        (b"null", "application/json", 400, "validation_error"),
        (b'"10000"', "application/json", 400, "validation_error"),
        (b"\xff\xfe", "application/json", 400, "bad_request"),
        (b'{"amount": "10000.00"', "application/json", 400, "bad_request"),
        (b'{"amount": "10000.00"}', "text/plain", 415, "unsupported_media_type"),
    ],
)
@pytest.mark.parametrize("key", [None, "junk-key-1"])
def test_topup_body_junk_is_4xx_and_releases_the_key(user_client, user, raw, content_type, status, code, key):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}

    response = user_client.generic("POST", TOPUPS, raw, content_type=content_type, **headers)

    _assert_refused(response, status, code)
    assert not Transaction.objects.exists()
    assert not IdempotencyRecord.objects.exists()


# --- operators' adjustments and refunds --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "1e3", "reason": "x"}, "amount"),
        ({"amount": 10.5, "reason": "x"}, "amount"),
        ({"amount": "\uff11\uff10", "reason": "x"}, "amount"),
        ({"amount": "100000000.01", "reason": "x"}, "amount"),
        ({"amount": "-100000000.01", "reason": "x"}, "amount"),
        ({"amount": None, "reason": "x"}, "amount"),
        ({"amount": "10.00", "reason": "a\x00b"}, "reason"),
        ({"amount": "10.00", "reason": {"text": "x"}}, "reason"),
        ({"amount": "10.00", "reason": "x", "user": ["nope"]}, "user"),
        ({"amount": "10.00", "reason": "x", "user": None}, "user"),
    ],
)
def test_adjustment_junk_is_400_and_moves_no_money(admin_client, user, body, field):
    completed_topup(user=user, amount="10000.00")
    before = ledger_snapshot(user)

    # Sent as ASCII JSON (escapes), as a hostile client would; the test client would not encode a surrogate.
    raw = json.dumps({"user": str(user.pk), **body})
    response = admin_client.generic("POST", ADJUSTMENTS, raw, content_type="application/json")

    _assert_refused(response, 400, "validation_error")
    assert field in response.json()["error"]["details"]
    assert ledger_snapshot(user) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # The JSON parser refuses lone surrogates for every endpoint, before any serializer.
        ({"reason": "\udc00"}, "bad_request"),
        ({"reason": ["x"]}, "validation_error"),
        ({"reason": "x" * 201}, "validation_error"),
        ([1], "validation_error"),
        (None, "validation_error"),
    ],
)
def test_refund_junk_is_400_and_moves_no_money(admin_client, user, body, code):
    topup = completed_topup(user=user, amount="10000.00")
    before = ledger_snapshot(user)

    response = admin_client.generic(
        "POST",
        f"/api/v1/admin/billing/transactions/{topup.pk}/refund",
        json.dumps(body),
        content_type="application/json",
    )

    _assert_refused(response, 400, code)
    assert ledger_snapshot(user) == before


def test_adjustment_with_a_lone_surrogate_is_refused_by_the_parser(admin_client, user):
    completed_topup(user=user, amount="10000.00")
    before = ledger_snapshot(user)
    raw = json.dumps({"user": str(user.pk), "amount": "10.00", "reason": "\ud800"})
    response = admin_client.generic("POST", ADJUSTMENTS, raw, content_type="application/json")
    _assert_refused(response, 400, "bad_request")
    assert ledger_snapshot(user) == before


def test_simulator_checkout_refuses_impossible_order_ids(user):
    topup = services.topup_create(user=user, amount=Decimal("10000.00"))

    for order_id in ("%00", "a" * 51, "topup%20x"):
        response = Client().post(f"/api/v1/billing/simulator/checkout/{order_id}", {"action": "pay"})
        assert response.status_code == 404, order_id
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING


# --- the server key stays secret ---------------------------------------------------------------


def test_server_key_is_not_in_stored_notifications_ledger_or_admin_pages(api_client, admin_user, user, topup):
    key = settings.MIDTRANS_SERVER_KEY
    assert api_client.post(
        WEBHOOK, data=json.dumps(notification_for(topup, "settlement")), content_type="application/json"
    ).json() == {"status": "ok", "outcome": "credited"}
    note = PaymentNotification.objects.get()
    topup.refresh_from_db()

    operator = Client()
    operator.force_login(admin_user)
    pages = [
        operator.get(f"/admin/billing/paymentnotification/{note.pk}/change/"),
        operator.get(f"/admin/billing/transaction/{topup.pk}/change/"),
        operator.get("/admin/billing/paymentnotification/"),
    ]

    assert note.body["signature_key"]  # the signature is kept for disputes...
    assert key not in json.dumps(note.body)  # ...the key it was made with is not
    assert key not in json.dumps(topup.gateway_payload)
    assert "signature_key" not in topup.gateway_payload
    for page in pages:
        assert page.status_code == 200
        assert key not in page.content.decode()


@pytest.mark.parametrize("refund_amount", ["-1e400000000", "1e400000000", "NaN", "-50000.00", "abc"])
def test_absurd_refund_amounts_never_500_and_never_take_more_than_was_credited(api_client, user, refund_amount):
    topup = completed_topup(user=user, amount="50000.00")
    body = notification_for(topup, "partial_refund", payment_type="gopay", refund_amount=refund_amount)

    response = api_client.post(WEBHOOK, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "no_change"
    assert Wallet.objects.get(user=user).balance == Decimal("50000.00")
    assert not Transaction.objects.filter(user=user, type="REFUND").exists()
