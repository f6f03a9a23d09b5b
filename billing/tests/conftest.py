import json

import pytest
from django.urls import reverse

from billing.models import PaymentNotification, Transaction, Wallet

WEBHOOK = "/api/v1/billing/midtrans/notification"


@pytest.fixture(autouse=True)
def _simulator_gateway(settings):
    # Each test states the gateway it exercises; the simulator unless it switches to midtrans.
    settings.PAYMENT_GATEWAY = "simulator"
    settings.MIDTRANS_VERIFY_STATUS = False
    settings.MIDTRANS_SERVER_KEY = "SB-Mid-server-test-key-0123456789"


def post_notification(client, body, *, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body)
    return client.post(WEBHOOK, data=data, content_type="application/json")


def ledger_snapshot(user) -> dict:
    """Everything money-related about a user, to prove a request changed nothing."""
    return {
        "wallet": list(Wallet.objects.filter(user=user).values_list("balance", "debt_since")),
        "transactions": list(
            Transaction.objects.filter(user=user).order_by("id").values_list("id", "status", "amount", "balance_after")
        ),
    }


@pytest.fixture
def webhook_url():
    return reverse("billing-api:midtrans-notification")


@pytest.fixture
def notifications_count():
    return lambda: PaymentNotification.objects.count()
