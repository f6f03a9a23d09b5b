"""The Django admin pages for billing render for operators and stay read-only."""

import pytest
from django.test import Client

from billing.models import Invoice, PaymentNotification, Transaction, Wallet

from .conftest import post_notification
from .factories import completed_topup, notification_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_billing_admin_pages_render(operator, user, api_client):
    topup = completed_topup(user=user)
    post_notification(api_client, notification_for(topup, "settlement"))
    invoice = Invoice.objects.get()

    for model in ("wallet", "transaction", "invoice", "paymentnotification"):
        assert operator.get(f"/admin/billing/{model}/").status_code == 200, model
    assert operator.get(f"/admin/billing/transaction/{topup.pk}/change/").status_code == 200
    assert operator.get("/admin/billing/transaction/?stale=expired&type=TOPUP").status_code == 200
    assert operator.get("/admin/billing/wallet/?debt=yes").status_code == 200
    pdf = operator.get(f"/admin/billing/invoice/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    note = PaymentNotification.objects.first()
    assert operator.get(f"/admin/billing/paymentnotification/{note.pk}/change/").status_code == 200


def test_ledger_cannot_be_edited_or_deleted_from_the_admin(operator, user):
    topup = completed_topup(user=user)

    edit = operator.post(f"/admin/billing/transaction/{topup.pk}/change/", {"amount": "1.00"})
    delete = operator.post(f"/admin/billing/transaction/{topup.pk}/delete/", {"post": "yes"})
    add = operator.get("/admin/billing/wallet/add/")

    assert delete.status_code == 403
    assert add.status_code == 403
    assert edit.status_code in (302, 403)
    topup.refresh_from_db()
    assert str(topup.amount) == "100000.00"
    assert Wallet.objects.get(user=user).balance == topup.amount


def test_sync_action_reconciles_selected_topups(operator, user):
    from decimal import Decimal

    from billing import services

    topup = services.topup_create(user=user, amount=Decimal("10000.00"))
    Client().post(f"/api/v1/billing/simulator/checkout/{topup.order_id}", {"action": "pay"})

    response = operator.post(
        "/admin/billing/transaction/", {"action": "sync_with_gateway", "_selected_action": [str(topup.pk)]}
    )

    assert response.status_code == 302
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.COMPLETED
