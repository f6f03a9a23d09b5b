"""Operators' billing API and the balance on admin user objects."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from billing import services
from billing.models import Transaction, Wallet

from .factories import completed_topup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/admin/billing/transactions"),
        ("post", "/api/v1/admin/billing/adjustments"),
        ("post", "/api/v1/admin/billing/transactions/00000000-0000-0000-0000-000000000000/refund"),
        ("get", "/api/v1/admin/billing/summary"),
    ],
)
def test_admin_billing_is_forbidden_to_users(user_client, user, method, path):
    response = getattr(user_client, method)(path, {}, format="json") if method == "post" else user_client.get(path)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Transaction.objects.exists()


def test_admin_lists_all_transactions_and_filters_by_user(admin_client, user, other_user, django_assert_num_queries):
    completed_topup(user=user)
    completed_topup(user=other_user)

    with django_assert_num_queries(2):  # the caller's row (then cached), the page with its count
        everything = admin_client.get("/api/v1/admin/billing/transactions").json()
    for _ in range(5):
        completed_topup(user=UserFactory())
    with django_assert_num_queries(1):
        assert admin_client.get("/api/v1/admin/billing/transactions").json()["count"] == 7
    only_user = admin_client.get("/api/v1/admin/billing/transactions", {"user": str(user.pk)}).json()

    assert everything["count"] == 2
    assert only_user["count"] == 1
    assert only_user["results"][0]["user"] == str(user.pk)
    assert only_user["results"][0]["user_email"] == user.email


def test_adjustment_is_created_with_its_actor(admin_client, admin_user, user):
    response = admin_client.post(
        "/api/v1/admin/billing/adjustments",
        {"user": str(user.pk), "amount": "12500.00", "reason": "Outage credit"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "ADJUSTMENT"
    assert body["amount"] == "12500.00"
    assert body["balance_after"] == "12500.00"
    assert body["description"] == "Outage credit"
    assert body["actor"] == str(admin_user.pk)
    assert Transaction.objects.get(pk=body["id"]).actor == admin_user
    assert Wallet.objects.get(user=user).balance == Decimal("12500.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "100.00", "reason": "x"}, "user"),
        ({"amount": "100.00"}, "reason"),
        ({"amount": "100.00", "reason": "   "}, "reason"),
        ({"amount": "0.00", "reason": "x"}, "amount"),
        ({"amount": "1.001", "reason": "x"}, "amount"),
        ({"reason": "x"}, "amount"),
    ],
)
def test_adjustment_validation(admin_client, user, body, field):
    body = {"user": str(user.pk), **body} if field != "user" else body

    response = admin_client.post("/api/v1/admin/billing/adjustments", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Transaction.objects.exists()


def test_adjustment_for_unknown_user_is_404(admin_client):
    response = admin_client.post(
        "/api/v1/admin/billing/adjustments",
        {"user": "00000000-0000-0000-0000-000000000000", "amount": "1.00", "reason": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Transaction.objects.exists()
    assert not Wallet.objects.exists()


def test_negative_adjustment_cannot_overdraw(admin_client, user):
    completed_topup(user=user, amount="10000.00")

    response = admin_client.post(
        "/api/v1/admin/billing/adjustments",
        {"user": str(user.pk), "amount": "-10000.01", "reason": "Correction"},
        format="json",
    )

    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": "insufficient_balance",
        "message": "The balance does not cover this amount.",
        "details": {"balance": "10000.00", "required": "10000.01"},
    }
    assert Wallet.objects.get(user=user).balance == Decimal("10000.00")


def test_refund_of_a_charge_credits_back_once(admin_client, admin_user, user):
    completed_topup(user=user, amount="100000.00")
    charge = services.wallet_charge(user=user, amount=Decimal("40000.00"), description="plan")
    url = f"/api/v1/admin/billing/transactions/{charge.pk}/refund"

    first = admin_client.post(url, {"reason": "Service was down"}, format="json")
    second = admin_client.post(url, {}, format="json")

    assert first.status_code == 201, first.content
    assert first.json()["amount"] == "40000.00"
    assert first.json()["related"] == str(charge.pk)
    assert first.json()["actor"] == str(admin_user.pk)
    assert "Service was down" in first.json()["description"]
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_refunded"
    assert Wallet.objects.get(user=user).balance == Decimal("100000.00")


def test_refund_of_a_topup_debits_the_unspent_credit(admin_client, user):
    topup = completed_topup(user=user, amount="50000.00")

    response = admin_client.post(f"/api/v1/admin/billing/transactions/{topup.pk}/refund", {}, format="json")

    assert response.status_code == 201
    assert response.json()["amount"] == "-50000.00"
    refund = Transaction.objects.get(pk=response.json()["id"])
    assert (refund.type, refund.related_id, refund.balance_after) == ("REFUND", topup.pk, Decimal("0.00"))
    assert Wallet.objects.get(user=user).balance == Decimal("0.00")


def test_refund_of_a_pending_or_unknown_transaction(admin_client, user):
    pending = services.topup_create(user=user, amount=Decimal("50000.00"))

    refused = admin_client.post(f"/api/v1/admin/billing/transactions/{pending.pk}/refund", {}, format="json")
    missing = admin_client.post(
        "/api/v1/admin/billing/transactions/00000000-0000-0000-0000-000000000000/refund", {}, format="json"
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_state"
    assert missing.status_code == 404
    assert not Transaction.objects.filter(type="REFUND").exists()


def test_summary_totals(admin_client, admin_user, user, other_user):
    completed_topup(user=user, amount="100000.00")
    completed_topup(user=other_user, amount="50000.00")
    services.wallet_charge(user=user, amount=Decimal("30000.00"), description="plan")
    services.topup_create(user=user, amount=Decimal("10000.00"))

    body = admin_client.get("/api/v1/admin/billing/summary").json()

    assert body["currency"] == "IDR"
    assert body["total_balance"] == "120000.00"
    assert body["wallets"] == 2
    assert body["wallets_in_debt"] == 0
    assert body["transactions"]["TOPUP"] == {
        "completed_count": 2,
        "completed_amount": "150000.00",
        "pending_count": 1,
        "unsuccessful_count": 0,
    }
    assert body["transactions"]["CHARGE"]["completed_amount"] == "-30000.00"


def test_admin_users_include_balance_in_constant_queries(admin_client, user, django_assert_num_queries):
    completed_topup(user=user, amount="75000.00")

    with django_assert_num_queries(2):  # the caller's row (then cached), the page with its count
        listing = admin_client.get("/api/v1/admin/users").json()
    for _ in range(6):
        completed_topup(user=UserFactory())
    with django_assert_num_queries(1):
        bigger = admin_client.get("/api/v1/admin/users").json()

    balances = {u["id"]: u["balance"] for u in listing["results"]}
    assert balances[str(user.pk)] == "75000.00"
    assert "0.00" in balances.values()  # the admin, who has no wallet
    assert bigger["count"] == listing["count"] + 6
    detail = admin_client.get(f"/api/v1/admin/users/{user.pk}").json()
    assert detail["balance"] == "75000.00"
