"""The local payment simulator: a checkout page that delivers signed notifications."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from billing import services
from billing.models import Transaction, Wallet

from .conftest import post_notification

pytestmark = pytest.mark.django_db


def _checkout_path(topup) -> str:
    return f"/api/v1/billing/simulator/checkout/{topup.order_id}"


def test_checkout_page_offers_pay_and_fail(user):
    topup = services.topup_create(user=user, amount=Decimal("50000.00"))

    response = Client().get(_checkout_path(topup))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="pay"' in html and 'value="fail"' in html
    assert "50000.00" in html


def test_pay_delivers_a_signed_settlement_that_the_webhook_credits(user, api_client):
    topup = services.topup_create(user=user, amount=Decimal("50000.00"))

    page = Client().post(_checkout_path(topup), {"action": "pay"})
    notification = json.loads(page.context["notification"] and json.dumps(page.context["notification"]))
    response = post_notification(api_client, notification)

    assert page.status_code == 200
    assert "/api/v1/billing/midtrans/notification" in page.content.decode()
    assert response.status_code == 200
    assert response.json()["outcome"] == "credited"
    assert Wallet.objects.get(user=user).balance == Decimal("50000.00")


def test_the_simulator_answers_status_like_midtrans(user, api_client, settings):
    settings.MIDTRANS_VERIFY_STATUS = True
    topup = services.topup_create(user=user, amount=Decimal("50000.00"))

    page = Client().post(_checkout_path(topup), {"action": "fail"})
    response = post_notification(api_client, page.context["notification"])

    assert response.json()["outcome"] == "failed"
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.FAILED


def test_checkout_is_404_for_unknown_orders_and_other_gateways(user, settings):
    topup = services.topup_create(user=user, amount=Decimal("50000.00"))

    assert Client().get("/api/v1/billing/simulator/checkout/topup-nope").status_code == 404
    settings.PAYMENT_GATEWAY = "midtrans"
    assert Client().get(_checkout_path(topup)).status_code == 404
