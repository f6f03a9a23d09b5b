"""The customer billing API: balance, top-ups, transactions, invoices (and their PDFs)."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from billing import services
from billing.models import Invoice, Transaction

from .factories import completed_topup

pytestmark = pytest.mark.django_db


def test_balance_of_a_new_user_is_zero_with_no_runway(user_client):
    response = user_client.get("/api/v1/billing/balance")

    assert response.status_code == 200
    assert response.json() == {"balance": "0.00", "currency": "IDR", "runway_days": None, "runs_out_at": None}


def test_balance_after_a_topup(user_client, user):
    completed_topup(user=user, amount="150000.00")

    assert user_client.get("/api/v1/billing/balance").json()["balance"] == "150000.00"


def test_balance_requires_authentication(api_client):
    response = api_client.get("/api/v1/billing/balance")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_runway_is_when_the_first_unpaid_renewal_comes_due():
    from billing.hooks import Renewal
    from billing.selectors import balance_runs_out

    now = timezone.now()
    month = timedelta(days=30)
    soon = Renewal(due_at=now + timedelta(days=5), amount=Decimal("75000.00"), every=month)
    later = Renewal(due_at=now + timedelta(days=20), amount=Decimal("50000.00"), every=month)
    # 200,000 pays day 5 (75k) and day 20 (50k), then day 35 (75k): 0 left for day 50.
    assert balance_runs_out(balance=Decimal("200000.00"), renewals=[soon, later], now=now) == now + timedelta(days=50)
    # Not even the first: it runs out when that one comes due; an overdue one counts from now.
    assert balance_runs_out(balance=Decimal("1000.00"), renewals=[soon], now=now) == soon.due_at
    overdue = Renewal(due_at=now - timedelta(days=1), amount=Decimal("10.00"), every=month)
    assert balance_runs_out(balance=Decimal("0.00"), renewals=[overdue], now=now) == now
    assert balance_runs_out(balance=Decimal("5.00"), renewals=[], now=now) is None


def test_topup_create_returns_the_contract_shape(user_client, user):
    response = user_client.post("/api/v1/billing/topups", {"amount": "150000.00"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "order_id", "amount", "status", "payment", "expires_at"}
    assert body["amount"] == "150000.00"
    assert body["status"] == "PENDING"
    assert set(body["payment"]) == {"token", "redirect_url"}
    topup = Transaction.objects.get(pk=body["id"], user=user)
    assert topup.order_id == body["order_id"]
    assert user_client.get("/api/v1/billing/balance").json()["balance"] == "0.00"


@pytest.mark.parametrize(
    "amount",
    [
        "9999.99",
        "100000000.01",
        "10000.505",
        "10000.50",
        "abc",
        None,
        "",
        "-10000.00",
        "1e-2",
        150000.5,
        "NaN",
        "Infinity",
    ],
)
def test_topup_create_validates_the_amount(user_client, amount):
    response = user_client.post("/api/v1/billing/topups", {"amount": amount}, format="json")

    assert response.status_code == 400, (amount, response.content)
    assert response.json()["error"]["code"] == "validation_error"
    assert "amount" in response.json()["error"]["details"]
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("10000.00", "10000.00"), ("100000000.00", "100000000.00"), ("25000", "25000.00"), (25000, "25000.00")],
)
def test_topup_accepts_the_bounds_and_whole_numbers(user_client, user, amount, stored):
    response = user_client.post("/api/v1/billing/topups", {"amount": amount}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == stored
    assert Transaction.objects.get(user=user, type="TOPUP", status="PENDING").amount == Decimal(stored)


def test_transactions_list_is_scoped_filtered_and_paginated(user_client, user, other_user):
    completed_topup(user=user, amount="100000.00")
    services.wallet_charge(user=user, amount=Decimal("25000.00"), description="ghost starter")
    services.topup_create(user=user, amount=Decimal("10000.00"))
    completed_topup(user=other_user)

    everything = user_client.get("/api/v1/billing/transactions").json()
    charges = user_client.get("/api/v1/billing/transactions", {"type": "CHARGE"}).json()
    pending = user_client.get("/api/v1/billing/transactions", {"status": "PENDING"}).json()
    page = user_client.get("/api/v1/billing/transactions", {"page_size": 2}).json()

    assert everything["count"] == 3
    assert charges["count"] == 1
    charge = charges["results"][0]
    assert charge["amount"] == "-25000.00"
    assert charge["balance_after"] == "75000.00"
    assert set(charge) == {
        "id",
        "type",
        "status",
        "amount",
        "balance_after",
        "description",
        "order_id",
        "subscription",
        "created_at",
        "completed_at",
    }
    assert pending["count"] == 1 and pending["results"][0]["balance_after"] is None
    assert len(page["results"]) == 2 and page["next"]


def test_transactions_filter_by_creation_time(user_client, user):
    completed_topup(user=user)
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    past = (timezone.now() - timedelta(hours=1)).isoformat()

    assert user_client.get("/api/v1/billing/transactions", {"created_after": future}).json()["count"] == 0
    assert user_client.get("/api/v1/billing/transactions", {"created_after": past}).json()["count"] == 1
    assert user_client.get("/api/v1/billing/transactions", {"created_before": past}).json()["count"] == 0
    bad = user_client.get("/api/v1/billing/transactions", {"created_after": "yesterday", "type": "NOPE"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "validation_error"


def test_transactions_list_uses_a_constant_number_of_queries(user_client, user, django_assert_num_queries):
    completed_topup(user=user, amount="500000.00")
    services.wallet_charge(user=user, amount=Decimal("1000.00"), description="a")
    with django_assert_num_queries(2):  # the caller's row (then cached), the page with its count
        assert user_client.get("/api/v1/billing/transactions").json()["count"] == 2
    for i in range(10):
        services.wallet_charge(user=user, amount=Decimal("1000.00"), description=f"b{i}")
    with django_assert_num_queries(1):
        assert user_client.get("/api/v1/billing/transactions").json()["count"] == 12


def test_transaction_detail_and_another_users_is_404(user_client, user, other_user):
    mine = completed_topup(user=user)
    theirs = completed_topup(user=other_user)

    assert user_client.get(f"/api/v1/billing/transactions/{mine.pk}").json()["id"] == str(mine.pk)
    response = user_client.get(f"/api/v1/billing/transactions/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert user_client.get("/api/v1/billing/transactions/not-a-uuid").status_code == 404


def test_invoices_list_detail_and_isolation(user_client, user, other_user, django_assert_num_queries):
    topup = completed_topup(user=user, amount="150000.00")
    services.wallet_charge(user=user, amount=Decimal("50000.00"), description="wordpress pro")
    theirs = completed_topup(user=other_user)

    with django_assert_num_queries(2):  # the caller's row (then cached), the page with its count
        listing = user_client.get("/api/v1/billing/invoices").json()
    assert listing["count"] == 2
    for i in range(8):
        services.wallet_charge(user=user, amount=Decimal("1000.00"), description=f"addon {i}")
    with django_assert_num_queries(1):  # the same at 10 invoices: no query per row
        assert user_client.get("/api/v1/billing/invoices").json()["count"] == 10
    detail = user_client.get(f"/api/v1/billing/invoices/{topup.invoice.pk}").json()
    assert detail["total"] == "150000.00"
    assert detail["customer"] == {"name": user.name, "email": user.email}
    assert detail["type"] == "TOPUP"
    assert detail["lines"] == [
        {"description": "Account credit top-up", "quantity": 1, "unit_price": "150000.00", "amount": "150000.00"}
    ]
    for path in ("", "/pdf"):
        response = user_client.get(f"/api/v1/billing/invoices/{theirs.invoice.pk}{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db(transaction=True)  # numbers are given as the transaction commits
def test_invoice_pdf_opens_and_shows_number_customer_and_total(user_client, user, settings):
    settings.INVOICE_COMPANY_NAME = "Awan Cloud PT"
    topup = completed_topup(user=user, amount="150000.00")
    invoice = Invoice.objects.get(transaction=topup)

    response = user_client.get(f"/api/v1/billing/invoices/{invoice.pk}/pdf", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert invoice.number == f"INV-{topup.completed_at.year}-000001"
    assert user_client.get(f"/api/v1/billing/invoices/{invoice.pk}").json()["number"] == invoice.number
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert invoice.number in text
    assert user.name in text
    assert user.email in text
    assert "150000.00" in text
    assert "Awan Cloud PT" in text
    assert topup.order_id in text
