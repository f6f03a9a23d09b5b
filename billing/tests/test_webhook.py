"""The Midtrans notification webhook: signature, amounts, ordering, and exactly-once credit."""

import json
from decimal import Decimal

import pytest
import responses
from django.conf import settings

from billing import services
from billing.gateways.signature import compute_signature
from billing.models import Invoice, PaymentNotification, Transaction, Wallet

from .conftest import WEBHOOK, ledger_snapshot, post_notification
from .factories import completed_topup, notification_for

pytestmark = pytest.mark.django_db

STATUS_URL = "https://api.sandbox.midtrans.com/v2/{order_id}/status"


@pytest.fixture
def topup(user):
    return services.topup_create(user=user, amount=Decimal("150000.00"))


def _balance(user) -> Decimal:
    return Wallet.objects.get(user=user).balance


def test_settlement_credits_the_wallet_once_and_issues_an_invoice(api_client, user, topup):
    body = notification_for(topup, "settlement")

    first = post_notification(api_client, body)
    second = post_notification(api_client, body)

    assert first.status_code == 200, first.content
    assert first.json() == {"status": "ok", "outcome": "credited"}
    assert second.status_code == 200
    assert second.json()["outcome"] == "no_change"
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.COMPLETED
    assert topup.balance_after == Decimal("150000.00")
    assert topup.completed_at is not None
    assert topup.gateway_status == "settlement"
    assert _balance(user) == Decimal("150000.00")
    assert Invoice.objects.filter(transaction=topup).count() == 1
    # Both deliveries are kept for audit.
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        "credited",
        "no_change",
    ]


def test_bad_signature_is_403_and_changes_nothing(api_client, user, topup):
    body = notification_for(topup, "settlement", server_key="SB-Mid-server-someone-else")
    before = ledger_snapshot(user)

    response = post_notification(api_client, body)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.count() == 0


def test_a_status_edited_after_signing_is_rejected(api_client, user, topup):
    # pending (201) and settlement (200) sign different status codes: flipping one without the
    # other breaks the signature.
    body = notification_for(topup, "pending")
    body["transaction_status"] = "settlement"
    body["status_code"] = "200"
    before = ledger_snapshot(user)

    response = post_notification(api_client, body)

    assert response.status_code == 403
    assert ledger_snapshot(user) == before


def test_wrong_amount_is_400_and_changes_nothing(api_client, user, topup):
    body = notification_for(topup, "settlement", gross_amount="15000.00")
    before = ledger_snapshot(user)

    response = post_notification(api_client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_mismatch"
    assert response.json()["error"]["details"] == {"expected": "150000.00", "received": "15000.00"}
    assert ledger_snapshot(user) == before
    note = PaymentNotification.objects.get()
    assert note.outcome == PaymentNotification.Outcome.AMOUNT_MISMATCH
    assert note.transaction_id == topup.pk


def test_wrong_currency_is_refused(api_client, user, topup):
    body = notification_for(topup, "settlement", currency="USD")
    before = ledger_snapshot(user)

    response = post_notification(api_client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_mismatch"
    assert ledger_snapshot(user) == before


def test_unknown_order_is_404_and_changes_nothing(api_client, user, topup):
    body = notification_for(topup, "settlement")
    body["order_id"] = "topup-20990101-doesnotexist"
    body["signature_key"] = compute_signature(
        order_id=body["order_id"], status_code="200", gross_amount="150000.00", server_key=settings.MIDTRANS_SERVER_KEY
    )
    before = ledger_snapshot(user)

    response = post_notification(api_client, body)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.get().outcome == PaymentNotification.Outcome.UNKNOWN_ORDER


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"settlement"', b"null"])
def test_malformed_json_is_400_and_changes_nothing(api_client, user, topup, raw):
    before = ledger_snapshot(user)

    response = post_notification(api_client, None, raw=raw)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.count() == 0


def test_missing_fields_and_wrong_types_never_500(api_client, user, topup):
    body = notification_for(topup, "settlement")
    before = ledger_snapshot(user)
    for broken, code in (
        ({k: v for k, v in body.items() if k != "signature_key"}, "invalid_signature"),
        ({**body, "gross_amount": 150000}, "invalid_signature"),
        ({**body, "order_id": None}, "invalid_signature"),
        ({**body, "transaction_status": ["settlement"]}, "bad_request"),
        ({k: v for k, v in body.items() if k != "transaction_status"}, "bad_request"),
    ):
        response = post_notification(api_client, broken)
        assert response.status_code in (400, 403), (broken, response.content)
        assert response.json()["error"]["code"] == code
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.count() == 0


def test_webhook_path_answers_without_redirect_and_without_auth_or_csrf(user, topup):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        WEBHOOK, data=json.dumps(notification_for(topup, "settlement")), content_type="application/json"
    )

    assert response.status_code == 200
    assert "Location" not in response
    assert Wallet.objects.get(user=user).balance == Decimal("150000.00")


def test_gross_amount_is_used_exactly_as_sent_for_the_signature(api_client, user, topup):
    # Signed over "150000.00"; the same value formatted differently must not verify.
    body = notification_for(topup, "settlement")
    before = ledger_snapshot(user)

    for reformatted in ("150000.0", "150000", "1.5e5", " 150000.00"):
        assert post_notification(api_client, {**body, "gross_amount": reformatted}).status_code == 403
    assert ledger_snapshot(user) == before
    assert post_notification(api_client, body).status_code == 200
    assert _balance(user) == Decimal("150000.00")


def test_settlement_then_late_pending_keeps_the_credit(api_client, user, topup):
    assert post_notification(api_client, notification_for(topup, "settlement")).status_code == 200

    response = post_notification(api_client, notification_for(topup, "pending"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "no_change"
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.COMPLETED
    assert topup.gateway_status == "settlement"
    assert _balance(user) == Decimal("150000.00")


def test_pending_then_settlement_credits(api_client, user, topup):
    assert post_notification(api_client, notification_for(topup, "pending")).json()["outcome"] == "pending"
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING

    assert post_notification(api_client, notification_for(topup, "settlement")).json()["outcome"] == "credited"
    assert _balance(user) == Decimal("150000.00")


def test_card_capture_then_settlement_credits_once(api_client, user, topup):
    capture = notification_for(topup, "capture", payment_type="credit_card")
    settlement = notification_for(topup, "settlement", payment_type="credit_card")

    assert post_notification(api_client, capture).json()["outcome"] == "credited"
    assert post_notification(api_client, settlement).json()["outcome"] == "no_change"

    assert _balance(user) == Decimal("150000.00")
    assert Transaction.objects.filter(user=user).count() == 1
    topup.refresh_from_db()
    assert topup.gateway_status == "settlement"


def test_capture_with_fraud_challenge_waits(api_client, user, topup):
    body = notification_for(topup, "capture", fraud_status="challenge", payment_type="credit_card")

    response = post_notification(api_client, body)

    assert response.json()["outcome"] == "pending"
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING
    assert not Wallet.objects.filter(user=user, balance__gt=0).exists()


def test_settlement_without_fraud_status_counts_as_accepted(api_client, user, topup):
    body = notification_for(topup, "settlement", fraud_status=None, payment_type="cstore")
    assert "fraud_status" not in body

    assert post_notification(api_client, body).json()["outcome"] == "credited"


@pytest.mark.parametrize(
    ("transaction_status", "final"),
    [("deny", "FAILED"), ("cancel", "CANCELLED"), ("expire", "EXPIRED"), ("failure", "FAILED")],
)
def test_failure_statuses_close_a_pending_topup_without_credit(api_client, user, topup, transaction_status, final):
    response = post_notification(api_client, notification_for(topup, transaction_status))

    assert response.status_code == 200
    assert response.json()["outcome"] == "failed"
    topup.refresh_from_db()
    assert topup.status == final
    assert topup.balance_after is None
    assert not Wallet.objects.filter(user=user, balance__gt=0).exists()
    assert not Invoice.objects.exists()


def test_late_settlement_after_local_expiry_still_credits(api_client, user, topup):
    assert post_notification(api_client, notification_for(topup, "expire")).status_code == 200

    response = post_notification(api_client, notification_for(topup, "settlement"))

    assert response.json()["outcome"] == "credited"
    assert _balance(user) == Decimal("150000.00")


def test_settlement_then_deny_claws_back_into_debt(api_client, user, topup):
    # given: credited, then 100000 of it spent
    post_notification(api_client, notification_for(topup, "settlement"))
    services.wallet_charge(user=user, amount=Decimal("100000.00"), description="Plan")

    # when: the bank reverses the payment
    response = post_notification(api_client, notification_for(topup, "deny"))
    duplicate = post_notification(api_client, notification_for(topup, "deny"))

    # then: one clawback row; the wallet goes into documented debt and refuses charges
    assert response.json()["outcome"] == "clawed_back"
    assert duplicate.json()["outcome"] == "no_change"
    wallet = Wallet.objects.get(user=user)
    assert wallet.balance == Decimal("-100000.00")
    assert wallet.debt_since is not None
    clawback = Transaction.objects.get(user=user, type=Transaction.Type.REFUND)
    assert clawback.amount == Decimal("-150000.00")
    assert clawback.related_id == topup.pk
    assert clawback.balance_after == Decimal("-100000.00")
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.COMPLETED  # the ledger row itself never changes
    from billing.exceptions import InsufficientBalance

    with pytest.raises(InsufficientBalance):
        services.wallet_charge(user=user, amount=Decimal("1.00"), description="Renewal")

    # A top-up pays the debt off first.
    completed_topup(user=user, amount="100000.00")
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("0.00")
    assert wallet.debt_since is None


def test_partial_refunds_claw_back_the_cumulative_difference(api_client, user, topup):
    post_notification(api_client, notification_for(topup, "settlement", payment_type="gopay"))

    first = notification_for(topup, "partial_refund", payment_type="gopay", refund_amount="50000.00")
    again = notification_for(topup, "partial_refund", payment_type="gopay", refund_amount="50000.00")
    full = notification_for(topup, "refund", payment_type="gopay", refund_amount="150000.00")
    assert post_notification(api_client, first).json()["outcome"] == "clawed_back"
    assert post_notification(api_client, again).json()["outcome"] == "no_change"
    assert post_notification(api_client, full).json()["outcome"] == "clawed_back"

    refunds = Transaction.objects.filter(user=user, type=Transaction.Type.REFUND).order_by("created_at")
    assert [r.amount for r in refunds] == [Decimal("-50000.00"), Decimal("-100000.00")]
    assert _balance(user) == Decimal("0.00")


def test_chargeback_after_operator_refund_does_not_debit_twice(api_client, user, admin_user, topup):
    post_notification(api_client, notification_for(topup, "settlement", payment_type="credit_card"))
    services.transaction_refund_by_admin(actor=admin_user, transaction=topup, reason="Customer asked")

    response = post_notification(api_client, notification_for(topup, "chargeback", payment_type="credit_card"))

    assert response.json()["outcome"] == "no_change"
    assert _balance(user) == Decimal("0.00")
    assert Transaction.objects.filter(user=user, type=Transaction.Type.REFUND).count() == 1


def test_fee_imposition_credits_the_stored_amount(api_client, user, topup):
    body = notification_for(
        topup,
        "settlement",
        gross_amount="154000.00",
        metadata={
            "extra_info": {
                "gross_amount_info": {
                    "original_amount": "150000.00",
                    "gross_amount": "154000.00",
                    "customer_imposed_payment_fee": "4000.00",
                }
            }
        },
    )

    response = post_notification(api_client, body)

    assert response.json()["outcome"] == "credited"
    assert _balance(user) == Decimal("150000.00")


# --- with MIDTRANS_VERIFY_STATUS: the status API is the truth ------------------------------------


def _status_body(topup, transaction_status, **extra):
    body = notification_for(topup, transaction_status, **extra)
    return {**body, "status_message": "Success, transaction is found"}


@pytest.fixture
def midtrans(settings):
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_VERIFY_STATUS = True
    settings.MIDTRANS_IS_PRODUCTION = False
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def midtrans_topup(user, settings):
    # Created through the simulator, then looked at as a Midtrans order.
    return services.topup_create(user=user, amount=Decimal("150000.00"))


def test_verified_mode_acts_on_the_status_api_not_the_body(api_client, user, midtrans_topup, midtrans):
    # A replayed or edited body says settlement; Midtrans says it is still pending.
    url = STATUS_URL.format(order_id=midtrans_topup.order_id)
    midtrans.get(url, json=_status_body(midtrans_topup, "pending"))

    response = post_notification(api_client, notification_for(midtrans_topup, "settlement"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "pending"
    midtrans_topup.refresh_from_db()
    assert midtrans_topup.status == Transaction.Status.PENDING
    assert not Wallet.objects.filter(user=user, balance__gt=0).exists()
    assert PaymentNotification.objects.get().verified_status == "pending"
    assert midtrans.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_verified_mode_credits_on_confirmed_settlement(api_client, user, midtrans_topup, midtrans):
    midtrans.get(STATUS_URL.format(order_id=midtrans_topup.order_id), json=_status_body(midtrans_topup, "settlement"))

    response = post_notification(api_client, notification_for(midtrans_topup, "settlement"))

    assert response.json()["outcome"] == "credited"
    assert _balance(user) == Decimal("150000.00")


def test_verified_mode_checks_the_amount_from_the_status_api(api_client, user, midtrans_topup, midtrans):
    midtrans.get(
        STATUS_URL.format(order_id=midtrans_topup.order_id),
        json=_status_body(midtrans_topup, "settlement", gross_amount="10000.00"),
    )
    before = ledger_snapshot(user)

    response = post_notification(api_client, notification_for(midtrans_topup, "settlement"))

    assert response.status_code == 400
    assert ledger_snapshot(user) == before


def test_verified_mode_status_api_404_means_not_started(api_client, user, midtrans_topup, midtrans):
    midtrans.get(
        STATUS_URL.format(order_id=midtrans_topup.order_id),
        json={"status_code": "404", "status_message": "Transaction doesn't exist."},
        status=404,
    )

    response = post_notification(api_client, notification_for(midtrans_topup, "settlement"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "not_at_gateway"
    midtrans_topup.refresh_from_db()
    assert midtrans_topup.status == Transaction.Status.PENDING


def test_verified_mode_status_api_down_answers_503_so_midtrans_retries(api_client, user, midtrans_topup, midtrans):
    midtrans.get(STATUS_URL.format(order_id=midtrans_topup.order_id), body="<html>Bad gateway</html>", status=502)
    before = ledger_snapshot(user)

    response = post_notification(api_client, notification_for(midtrans_topup, "settlement"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payment_gateway_unavailable"
    assert ledger_snapshot(user) == before
    assert PaymentNotification.objects.get().outcome == "gateway_unavailable"
    assert settings.MIDTRANS_SERVER_KEY not in response.content.decode()
