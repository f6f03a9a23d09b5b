"""The midtrans gateway through the real midtransclient, its HTTP answered by ``responses``."""

import base64
import json
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from billing.gateways import GatewayError, GatewayUnavailable, Outcome
from billing.gateways.midtrans import MidtransGateway
from billing.models import Transaction

pytestmark = pytest.mark.django_db

SNAP_SANDBOX = "https://app.sandbox.midtrans.com/snap/v1/transactions"
SNAP_PRODUCTION = "https://app.midtrans.com/snap/v1/transactions"
SERVER_KEY = "SB-Mid-server-abcdefghijklmnop"
SNAP_OK = {
    "token": "66e4fa55-fdac-4ef9-91b5-733b97d1b862",
    "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/66e4fa55-fdac-4ef9-91b5-733b97d1b862",
}


@pytest.fixture
def midtrans(settings):
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.MIDTRANS_SERVER_KEY = SERVER_KEY
    settings.MIDTRANS_IS_PRODUCTION = False
    settings.MIDTRANS_NOTIFICATION_URL = "https://api.example.com/api/v1/billing/midtrans/notification"
    settings.TOPUP_EXPIRY_MINUTES = 90
    with responses.RequestsMock() as mock:
        yield mock


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def test_topup_sends_the_snap_request_midtrans_expects(user_client, user, midtrans):
    midtrans.post(SNAP_SANDBOX, json=SNAP_OK, status=201)

    response = user_client.post("/api/v1/billing/topups", {"amount": "150000.00"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    topup = Transaction.objects.get(pk=body["id"])
    assert body == {
        "id": str(topup.pk),
        "order_id": topup.order_id,
        "amount": "150000.00",
        "status": "PENDING",
        "payment": {"token": SNAP_OK["token"], "redirect_url": SNAP_OK["redirect_url"]},
        "expires_at": body["expires_at"],
    }
    assert topup.gateway == "midtrans"

    (call,) = midtrans.calls
    request = call.request
    assert request.url == SNAP_SANDBOX
    assert request.headers["Authorization"] == _basic(SERVER_KEY)
    assert request.headers["X-Override-Notification"] == "https://api.example.com/api/v1/billing/midtrans/notification"
    assert request.req_kwargs["timeout"] == (5.0, 20.0)  # midtransclient sets none of its own
    sent = json.loads(request.body)
    assert sent["transaction_details"] == {"order_id": topup.order_id, "gross_amount": 150000}
    assert isinstance(sent["transaction_details"]["gross_amount"], int)
    assert sum(item["price"] * item["quantity"] for item in sent["item_details"]) == 150000
    assert sent["expiry"]["unit"] == "minute"
    assert sent["expiry"]["duration"] == 90
    assert sent["expiry"]["start_time"].endswith("+0700")
    assert sent["customer_details"]["email"] == user.email


def test_production_uses_the_production_snap_url(user_client, midtrans, settings):
    settings.MIDTRANS_IS_PRODUCTION = True
    midtrans.post(SNAP_PRODUCTION, json=SNAP_OK, status=201)

    response = user_client.post("/api/v1/billing/topups", {"amount": "10000.00"}, format="json")

    assert response.status_code == 201
    assert midtrans.calls[0].request.url == SNAP_PRODUCTION


@pytest.mark.parametrize(
    "reply",
    [
        {"json": {"error_messages": ["Internal server error"]}, "status": 500},
        {"body": "<html>502 Bad Gateway</html>", "status": 502},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"body": requests.exceptions.ConnectionError("refused")},
        {"json": {"error_messages": ["Access denied due to unauthorized transaction"]}, "status": 401},
        {"json": {"error_messages": ["transaction_details.order_id sudah digunakan"]}, "status": 400},
        {"json": {"unexpected": True}, "status": 201},
    ],
)
def test_gateway_errors_are_502_and_leave_the_topup_failed(user_client, user, midtrans, reply):
    midtrans.post(SNAP_SANDBOX, **reply)

    response = user_client.post("/api/v1/billing/topups", {"amount": "150000.00"}, format="json")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_gateway_error"
    assert SERVER_KEY not in response.content.decode()
    topup = Transaction.objects.get(user=user)
    assert topup.status == Transaction.Status.FAILED
    assert topup.failure_reason
    assert SERVER_KEY not in topup.failure_reason


def test_server_key_never_reaches_the_logs(user_client, midtrans, caplog):
    midtrans.post(SNAP_SANDBOX, json={"error_messages": ["boom"]}, status=500)

    user_client.post("/api/v1/billing/topups", {"amount": "150000.00"}, format="json")

    assert caplog.records  # the failure is logged...
    assert SERVER_KEY not in caplog.text  # ...without the key
    assert SERVER_KEY not in repr(MidtransGateway(server_key=SERVER_KEY))


STATUS_URL = "https://api.sandbox.midtrans.com/v2/topup-20260101-abc/status"


def _gateway() -> MidtransGateway:
    return MidtransGateway(server_key=SERVER_KEY, timeout=(1.0, 2.0))


@responses.activate
def test_status_api_is_called_with_basic_auth_and_parsed():
    responses.get(
        STATUS_URL,
        json={
            "status_code": "200",
            "transaction_status": "capture",
            "fraud_status": "accept",
            "order_id": "topup-20260101-abc",
            "gross_amount": "150000.00",
            "currency": "IDR",
            "transaction_id": "b0b8d3f0-1111-2222-3333-444455556666",
            "payment_type": "credit_card",
        },
        match=[matchers.header_matcher({"Authorization": _basic(SERVER_KEY)})],
    )

    status = _gateway().get_status("topup-20260101-abc")

    assert status.outcome == Outcome.SUCCESS
    assert status.gross_amount == "150000.00"
    assert status.payment_type == "credit_card"
    assert responses.calls[0].request.req_kwargs["timeout"] == (1.0, 2.0)


@responses.activate
def test_status_api_404_in_the_body_means_not_started():
    # midtransclient raises on a body status_code >= 400 even under HTTP 200.
    responses.get(STATUS_URL, json={"status_code": "404", "status_message": "Transaction doesn't exist."})

    assert _gateway().get_status("topup-20260101-abc") is None


@responses.activate
def test_status_api_expired_407_is_a_normal_answer():
    responses.get(
        STATUS_URL,
        json={
            "status_code": "407",
            "transaction_status": "expire",
            "order_id": "topup-20260101-abc",
            "gross_amount": "150000.00",
        },
    )

    assert _gateway().get_status("topup-20260101-abc").outcome == Outcome.EXPIRED


@responses.activate
def test_status_api_failures_are_classified():
    responses.get(STATUS_URL, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(GatewayUnavailable):
        _gateway().get_status("topup-20260101-abc")

    responses.replace(responses.GET, STATUS_URL, json={"status_code": "500"}, status=500)
    with pytest.raises(GatewayUnavailable):
        _gateway().get_status("topup-20260101-abc")

    responses.replace(
        responses.GET, STATUS_URL, json={"status_code": "401", "status_message": "Access denied"}, status=401
    )
    with pytest.raises(GatewayError) as caught:
        _gateway().get_status("topup-20260101-abc")
    assert not isinstance(caught.value, GatewayUnavailable)
    assert SERVER_KEY not in str(caught.value)


@responses.activate
def test_cancel_expires_a_pending_payment_and_ignores_final_ones():
    url = "https://api.sandbox.midtrans.com/v2/topup-20260101-abc/expire"
    responses.post(url, json={"status_code": "407", "transaction_status": "expire"})
    _gateway().cancel("topup-20260101-abc")

    responses.replace(responses.POST, url, json={"status_code": "412", "status_message": "cannot be updated"})
    _gateway().cancel("topup-20260101-abc")
    assert len(responses.calls) == 2


def test_amounts_with_cents_never_reach_midtrans():
    from datetime import UTC, datetime

    from billing.gateways import ChargeRequest, Customer

    request = ChargeRequest(
        order_id="topup-x",
        amount=Decimal("10000.50"),
        description="Account credit top-up",
        customer=Customer(name="A", email="a@example.com"),
        expires_at=datetime.now(UTC),
        expiry_minutes=60,
    )
    with pytest.raises(GatewayError):
        _gateway().create_charge(request)
