"""Races against real PostgreSQL row locks: real threads, each on its own DB connection."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client

from billing import services
from billing.exceptions import InsufficientBalance
from billing.models import Invoice, InvoiceSequence, PaymentNotification, Transaction, Wallet
from paas.tests.threads import run_in_threads

from .conftest import WEBHOOK
from .factories import completed_topup, notification_for


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_settlements_credit_once(user):
    topup = services.topup_create(user=user, amount=Decimal("150000.00"))
    body = json.dumps(notification_for(topup, "settlement"))

    statuses = run_in_threads(
        20, lambda i: Client().post(WEBHOOK, data=body, content_type="application/json").status_code
    )

    assert statuses == [200] * 20
    assert Wallet.objects.get(user=user).balance == Decimal("150000.00")
    assert Transaction.objects.filter(user=user).count() == 1
    assert Transaction.objects.get(pk=topup.pk).status == Transaction.Status.COMPLETED
    assert Invoice.objects.filter(user=user).count() == 1
    outcomes = list(PaymentNotification.objects.values_list("outcome", flat=True))
    assert sorted(outcomes) == ["credited"] + ["no_change"] * 19


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_debits_against_a_balance_for_ten(user):
    completed_topup(user=user, amount="100000.00")

    def charge(i: int):
        return services.wallet_charge(user=user, amount=Decimal("10000.00"), description=f"debit {i}")

    results = run_in_threads(30, charge)

    charged = [r for r in results if isinstance(r, Transaction)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(charged) == 10, results
    assert len(refused) == 20, results
    wallet = Wallet.objects.get(user=user)
    assert wallet.balance == Decimal("0.00")
    assert wallet.balance >= 0
    total = Transaction.objects.filter(user=user, status="COMPLETED").aggregate(s=Sum("amount"))["s"]
    assert total == wallet.balance
    # Every balance_after is distinct: the debits were serialized, none read a stale balance.
    afters = sorted(Transaction.objects.filter(user=user, type="CHARGE").values_list("balance_after", flat=True))
    assert afters == [Decimal(f"{n}0000.00") for n in range(10)]
    # Invoice numbers stayed gap-free under the same race.
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 12))


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_create_one_topup(user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    token = str(RefreshToken.for_user(user).access_token)

    def post(i: int):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="same-key-1")
        response = client.post("/api/v1/billing/topups", {"amount": "50000.00"}, format="json")
        return response.status_code, response.json()

    results = run_in_threads(8, post)

    created = [body for code, body in results if code == 201]
    in_use = [body for code, body in results if code == 409]
    assert len(created) >= 1
    assert len(created) + len(in_use) == 8, results
    assert all(b["error"]["code"] == "idempotency_key_in_use" for b in in_use)
    assert len({b["id"] for b in created}) == 1  # replays carry the first response
    assert Transaction.objects.filter(user=user, type="TOPUP").count() == 1


@pytest.mark.django_db(transaction=True)
def test_webhooks_and_status_polls_racing_on_one_payment_credit_once(user):
    # given: the customer paid on the simulator; its status API now says settlement
    topup = services.topup_create(user=user, amount=Decimal("80000.00"))
    body = json.dumps(services.topup_simulate_payment(topup=topup, transaction_status="settlement"))

    # when: notifications and the reconcile job's status polls all arrive at once
    def work(i: int):
        if i % 2:
            return services.topup_sync(topup_id=topup.pk)
        return Client().post(WEBHOOK, data=body, content_type="application/json").status_code

    results = run_in_threads(12, work)

    # then
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Wallet.objects.get(user=user).balance == Decimal("80000.00")
    assert Transaction.objects.filter(user=user).count() == 1
    assert Invoice.objects.filter(user=user).count() == 1
    credited = [r for r in results if r == "credited"]
    credited += PaymentNotification.objects.filter(outcome="credited").values_list("outcome", flat=True)
    assert len(credited) == 1


@pytest.mark.django_db(transaction=True)
def test_operator_refund_racing_gateway_refunds_reverses_the_topup_once(user, admin_user):
    topup = completed_topup(user=user, amount="60000.00")
    refund = json.dumps(notification_for(topup, "refund", payment_type="gopay", refund_amount="60000.00"))

    def work(i: int):
        if i == 0:
            return services.transaction_refund_by_admin(actor=admin_user, transaction=topup, reason="asked")
        return Client().post(WEBHOOK, data=refund, content_type="application/json").status_code

    results = run_in_threads(6, work)

    unexpected = [r for r in results if isinstance(r, Exception) and r.__class__.__name__ != "AlreadyRefunded"]
    assert not unexpected, results
    reversals = Transaction.objects.filter(user=user, type="REFUND", related=topup)
    assert reversals.aggregate(s=Sum("amount"))["s"] == Decimal("-60000.00")
    assert Wallet.objects.get(user=user).balance == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_on_different_wallets_keep_invoice_numbers_gap_free_through_rollbacks():
    from django.db import transaction

    from accounts.tests.factories import UserFactory

    from .test_services import _invariant

    users = [UserFactory() for _ in range(6)]
    for u in users:
        completed_topup(user=u, amount="1000000.00")

    class CallerFailed(Exception):
        pass

    def work(i: int) -> int:
        kept = 0
        for n in range(12):
            try:
                with transaction.atomic():
                    services.wallet_charge(user=users[i], amount=Decimal("1000.00"), description=f"charge {n}")
                    if n % 3 == 0:
                        raise CallerFailed  # the caller's own work failed after the charge
                    if n % 3 == 1:
                        try:
                            with transaction.atomic():  # a savepoint: its charge goes, the outer one stays
                                services.wallet_charge(user=users[i], amount=Decimal("500.00"), description="extra")
                                raise CallerFailed
                        except CallerFailed:
                            pass
            except CallerFailed:
                continue
            kept += 1
        return kept

    results = run_in_threads(len(users), work)

    assert results == [8] * len(users), results
    invoices = Invoice.objects.all()
    committed = len(users) * (1 + 8)  # a top-up each, and the charges that were not rolled back
    assert invoices.count() == committed
    assert sorted(invoices.values_list("sequence", flat=True)) == list(range(1, committed + 1))
    assert not invoices.filter(number__isnull=True).exists()
    assert InvoiceSequence.objects.get().last_number == committed
    assert not Transaction.objects.filter(description="extra").exists()
    for u in users:
        _invariant(u)
        assert Wallet.objects.get(user=u).balance == Decimal("1000000.00") - 8 * Decimal("1000.00")


@pytest.mark.django_db(transaction=True)
def test_a_charge_does_not_wait_for_another_customers_open_transaction(user, other_user):
    from django.db import transaction

    completed_topup(user=user)
    completed_topup(user=other_user)
    charged, others_done = threading.Event(), threading.Event()
    state = {"first_committed": False}

    def first_customer() -> None:
        # A purchase: the charge, then more work in the same transaction before it commits.
        try:
            with transaction.atomic():
                services.wallet_charge(user=user, amount=Decimal("1000.00"), description="purchase")
                charged.set()
                others_done.wait(timeout=10)
            state["first_committed"] = True
        finally:
            connection.close()

    holder = threading.Thread(target=first_customer)
    holder.start()
    try:
        assert charged.wait(timeout=10)
        services.wallet_charge(user=other_user, amount=Decimal("1000.00"), description="meanwhile")
        committed_while_charging = state["first_committed"]
    finally:
        others_done.set()
        holder.join(timeout=30)

    assert not committed_while_charging  # the second charge finished while the first was still open
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4]
