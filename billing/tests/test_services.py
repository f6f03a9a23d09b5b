"""The ledger services: charges, refunds, adjustments, top-ups, invoices and the DB's guards."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from accounts.tests.factories import UserFactory
from billing import services
from billing.exceptions import (
    AlreadyRefunded,
    InsufficientBalance,
    NotRefundable,
)
from billing.models import Invoice, InvoiceSequence, Transaction, Wallet
from paas.exceptions import IdempotencyKeyMismatch

from .factories import completed_topup

pytestmark = pytest.mark.django_db


def _invariant(user) -> None:
    wallet = Wallet.objects.get(user=user)
    total = Transaction.objects.filter(user=user, status="COMPLETED").aggregate(s=Sum("amount"))["s"]
    assert wallet.balance == (total or Decimal("0.00"))
    last = Transaction.objects.filter(user=user, status="COMPLETED").order_by("-completed_at", "-id").first()
    if last is not None:
        assert last.balance_after == wallet.balance


def test_charge_debits_writes_the_ledger_and_an_invoice(user):
    completed_topup(user=user, amount="100000.00")

    charge = services.wallet_charge(
        user=user, amount=Decimal("40000.00"), description="n8n starter", subscription_id=None
    )

    assert charge.type == Transaction.Type.CHARGE
    assert charge.status == Transaction.Status.COMPLETED
    assert charge.amount == Decimal("-40000.00")
    assert charge.balance_after == Decimal("60000.00")
    assert Wallet.objects.get(user=user).balance == Decimal("60000.00")
    assert charge.invoice.total == Decimal("40000.00")
    _invariant(user)


def test_charge_beyond_the_balance_is_402_with_details_and_writes_nothing(user):
    completed_topup(user=user, amount="10000.00")

    with pytest.raises(InsufficientBalance) as caught:
        services.wallet_charge(user=user, amount=Decimal("10000.01"), description="Too much")

    assert caught.value.status_code == 402
    assert caught.value.code == "insufficient_balance"
    assert caught.value.extra == {"balance": "10000.00", "required": "10000.01"}
    assert Transaction.objects.filter(user=user, type="CHARGE").count() == 0
    assert Wallet.objects.get(user=user).balance == Decimal("10000.00")


def test_charge_for_a_user_without_a_wallet_is_refused_cleanly(user):
    with pytest.raises(InsufficientBalance) as caught:
        services.wallet_charge(user=user, amount=Decimal("1.00"), description="x")
    assert caught.value.extra == {"balance": "0.00", "required": "1.00"}
    assert not Transaction.objects.filter(user=user).exists()


def test_charge_rejects_floats_zero_and_negative(user):
    completed_topup(user=user)
    with pytest.raises(TypeError):
        services.wallet_charge(user=user, amount=1.5, description="float")
    for amount in (Decimal("0"), Decimal("-5.00")):
        with pytest.raises(ValueError):
            services.wallet_charge(user=user, amount=amount, description="bad")
    assert Transaction.objects.filter(user=user, type="CHARGE").count() == 0


def test_charge_with_idempotency_key_charges_once(user):
    completed_topup(user=user)
    subscription_id = "7b0c62a4-5f7b-4d0e-8c56-5a0f2f1ad001"

    first = services.wallet_charge(
        user=user,
        amount=Decimal("30000.00"),
        description="renewal",
        subscription_id=subscription_id,
        idempotency_key="renew:7b0c:2026-12",
    )
    again = services.wallet_charge(
        user=user,
        amount=Decimal("30000.00"),
        description="renewal",
        subscription_id=subscription_id,
        idempotency_key="renew:7b0c:2026-12",
    )

    assert again.pk == first.pk
    assert str(first.subscription_id) == subscription_id
    assert Transaction.objects.filter(user=user, type="CHARGE").count() == 1
    with pytest.raises(IdempotencyKeyMismatch):
        services.wallet_charge(
            user=user, amount=Decimal("99.00"), description="renewal", idempotency_key="renew:7b0c:2026-12"
        )
    _invariant(user)


def test_refund_of_a_charge_credits_back_and_never_more_than_charged(user):
    completed_topup(user=user, amount="100000.00")
    charge = services.wallet_charge(user=user, amount=Decimal("60000.00"), description="plan")

    part = services.wallet_refund(user=user, original=charge, amount=Decimal("20000.00"), description="pro rata")
    rest = services.wallet_refund(user=user, original=charge, description="rest")

    assert part.amount == Decimal("20000.00")
    assert rest.amount == Decimal("40000.00")
    assert rest.related_id == charge.pk
    with pytest.raises(AlreadyRefunded):
        services.wallet_refund(user=user, original=charge, description="again")
    assert Wallet.objects.get(user=user).balance == Decimal("100000.00")
    _invariant(user)


def test_partial_refund_over_the_remainder_is_refused(user):
    completed_topup(user=user, amount="100000.00")
    charge = services.wallet_charge(user=user, amount=Decimal("10000.00"), description="plan")

    with pytest.raises(NotRefundable):
        services.wallet_refund(user=user, original=charge, amount=Decimal("10000.01"), description="x")


def test_refund_of_someone_elses_transaction_is_refused(user, other_user):
    topup = completed_topup(user=other_user)

    with pytest.raises(NotRefundable):
        services.wallet_refund(user=user, original=topup, description="steal")
    assert not Transaction.objects.filter(user=user).exists()


def test_refund_of_a_spent_topup_is_402(user, admin_user):
    topup = completed_topup(user=user, amount="50000.00")
    services.wallet_charge(user=user, amount=Decimal("30000.00"), description="plan")

    with pytest.raises(InsufficientBalance):
        services.transaction_refund_by_admin(actor=admin_user, transaction=topup)
    assert Wallet.objects.get(user=user).balance == Decimal("20000.00")


def test_adjustments_are_signed_audited_and_cannot_overdraw(user, admin_user):
    credit = services.wallet_adjust(actor=admin_user, user=user, amount=Decimal("5000.00"), reason="Goodwill")
    debit = services.wallet_adjust(actor=admin_user, user=user, amount=Decimal("-2000.00"), reason="Correction")

    assert (credit.amount, credit.actor_id, credit.description) == (Decimal("5000.00"), admin_user.pk, "Goodwill")
    assert debit.balance_after == Decimal("3000.00")
    with pytest.raises(InsufficientBalance):
        services.wallet_adjust(actor=admin_user, user=user, amount=Decimal("-3000.01"), reason="Too much")
    _invariant(user)


def test_topup_create_is_pending_with_a_valid_order_id(user, settings):
    settings.TOPUP_EXPIRY_MINUTES = 60

    topup = services.topup_create(user=user, amount=Decimal("150000"))

    assert topup.status == Transaction.Status.PENDING
    assert topup.amount == Decimal("150000.00")
    assert topup.balance_after is None
    assert len(topup.order_id) <= 50
    assert all(c.isalnum() or c in "-_~." for c in topup.order_id)
    assert (topup.expires_at - topup.created_at).total_seconds() == pytest.approx(3600, abs=2)
    assert topup.redirect_url.endswith(f"/api/v1/billing/simulator/checkout/{topup.order_id}")
    assert not Wallet.objects.filter(user=user, balance__gt=0).exists()


@pytest.mark.parametrize("amount", ["9999.00", "100000000.01", "10000.50", "NaN", "abc"])
def test_topup_create_refuses_bad_amounts(user, amount):
    with pytest.raises(ValueError):
        services.topup_create(user=user, amount=amount)
    assert not Transaction.objects.exists()


# Invoices are numbered while their transaction commits: these tests commit for real.


@pytest.mark.django_db(transaction=True)
def test_invoice_numbers_are_sequential_per_year(user, other_user):
    a = completed_topup(user=user)
    b = completed_topup(user=other_user)
    c = services.wallet_charge(user=user, amount=Decimal("1000.00"), description="plan")

    numbers = [Invoice.objects.get(transaction=t).number for t in (a, b, c)]
    year = a.completed_at.year
    assert numbers == [f"INV-{year}-000001", f"INV-{year}-000002", f"INV-{year}-000003"]
    assert InvoiceSequence.objects.get(year=year).last_number == 3


@pytest.mark.django_db(transaction=True)
def test_an_invoice_is_numbered_when_its_transaction_commits(user):
    completed_topup(user=user)

    with transaction.atomic():
        charge = services.wallet_charge(user=user, amount=Decimal("1000.00"), description="plan")
        pending = Invoice.objects.get(transaction=charge)
        assert (pending.number, pending.sequence) == (None, None)

    numbered = Invoice.objects.get(transaction=charge)
    assert numbered.sequence == 2
    assert numbered.number == f"INV-{charge.completed_at.year}-000002"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_charge_leaves_no_gap_in_invoice_numbers(user):
    completed_topup(user=user)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.wallet_charge(user=user, amount=Decimal("1000.00"), description="rolled back")
        raise RuntimeError("the caller's own work failed")
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint rolled back
            services.wallet_charge(user=user, amount=Decimal("1000.00"), description="rolled back too")
            raise RuntimeError("the caller's own work failed")
        charge = services.wallet_charge(user=user, amount=Decimal("1000.00"), description="kept")

    assert Invoice.objects.get(transaction=charge).sequence == 2
    assert Invoice.objects.count() == 2
    assert InvoiceSequence.objects.get().last_number == 2


@pytest.mark.django_db(transaction=True)
def test_invoice_numbers_past_999999_keep_every_digit(user):
    completed_topup(user=user)
    InvoiceSequence.objects.update(last_number=999_999)

    charge = services.wallet_charge(user=user, amount=Decimal("1000.00"), description="plan")

    assert Invoice.objects.get(transaction=charge).number == f"INV-{charge.completed_at.year}-1000000"


def test_completed_ledger_rows_cannot_be_changed_or_deleted(user):
    topup = completed_topup(user=user)

    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=topup.pk).update(amount=Decimal("999999.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=topup.pk).delete()
    # Bookkeeping of the gateway may still be recorded.
    Transaction.objects.filter(pk=topup.pk).update(gateway_status="settlement")
    topup.refresh_from_db()
    assert topup.amount == Decimal("100000.00")


def test_database_refuses_a_negative_balance_outside_the_debt_policy(user):
    wallet = Wallet.objects.create(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=Decimal("-1.00"))


def test_database_refuses_a_positive_charge(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(
            user=user,
            type="CHARGE",
            status="COMPLETED",
            amount=Decimal("5.00"),
            balance_after=Decimal("5.00"),
            completed_at="2026-01-01T00:00:00Z",
        )


def test_user_with_a_ledger_cannot_be_deleted(user):
    from django.db.models import ProtectedError

    completed_topup(user=user)
    with pytest.raises(ProtectedError):
        user.delete()


def test_payment_events_are_emitted_after_commit(user, django_capture_on_commit_callbacks):
    from billing.gateways import PaymentStatus
    from notifications.models import EmailMessage

    from .factories import notification_for

    topup = services.topup_create(user=user, amount=Decimal("20000.00"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.topup_apply_status(
            topup_id=topup.pk, status=PaymentStatus.from_midtrans(notification_for(topup, "settlement"))
        )
    assert callbacks  # our emit, then the email it queued
    email = EmailMessage.objects.get(user=user, template="payment-received")
    assert email.context["transaction"]["order_id"] == topup.order_id
    assert email.context["balance"] == "20000.00"

    other = UserFactory()
    failed = services.topup_create(user=other, amount=Decimal("20000.00"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.topup_apply_status(
            topup_id=failed.pk, status=PaymentStatus.from_midtrans(notification_for(failed, "expire"))
        )
    assert callbacks
    assert not EmailMessage.objects.filter(user=other, template="payment-received").exists()


def test_a_repeated_full_refund_with_its_key_returns_the_first_refund(user):
    completed_topup(user=user, amount="100000.00")
    charge = services.wallet_charge(user=user, amount=Decimal("40000.00"), description="plan")

    first = services.wallet_refund(user=user, original=charge, description="outage", idempotency_key="refund:c1")
    again = services.wallet_refund(user=user, original=charge, description="outage", idempotency_key="refund:c1")

    assert again.pk == first.pk
    assert Transaction.objects.filter(user=user, type="REFUND").count() == 1
    assert Wallet.objects.get(user=user).balance == Decimal("100000.00")
    other = services.wallet_charge(user=user, amount=Decimal("1000.00"), description="other plan")
    with pytest.raises(IdempotencyKeyMismatch):  # the same key for another charge is a caller's bug
        services.wallet_refund(user=user, original=other, description="x", idempotency_key="refund:c1")
    _invariant(user)


@pytest.mark.parametrize("amount", ["1000.001", "0.005", "1000000000000.00", "Infinity", "1e400000000"])
def test_services_refuse_amounts_they_would_have_to_round_or_cannot_store(user, admin_user, amount):
    completed_topup(user=user, amount="100000.00")

    with pytest.raises(ValueError):
        services.wallet_charge(user=user, amount=amount, description="pro rata")
    with pytest.raises(ValueError):
        services.wallet_adjust(actor=admin_user, user=user, amount=amount, reason="x")
    assert Wallet.objects.get(user=user).balance == Decimal("100000.00")
    assert Transaction.objects.filter(user=user).count() == 1


def test_charge_many_charges_what_each_wallet_covers_and_replays_a_used_key(user, other_user):
    completed_topup(user=user, amount="100000.00")
    completed_topup(user=other_user, amount="10000.00")
    # What a description may hold goes into the ledger as it is (the rows travel as arrays).
    tricky = 'n8n "Pro", {team} \\ back-slash, NULL, émoji 😀'
    charges = [
        services.Charge(user_id=user.pk, amount=Decimal("30000.00"), description=tricky, idempotency_key="k1"),
        services.Charge(user_id=other_user.pk, amount=Decimal("30000.00"), description="short", idempotency_key="k2"),
        services.Charge(user_id=user.pk, amount=Decimal("50000.00"), description="second", idempotency_key="k3"),
    ]

    first, refused, second = services.wallet_charge_many(charges)

    assert refused is None
    assert (first.amount, first.replayed, second.amount) == (Decimal("30000.00"), False, Decimal("50000.00"))
    row = Transaction.objects.get(pk=first.transaction_id)
    assert (row.type, row.status, row.amount, row.balance_after) == ("CHARGE", "COMPLETED", Decimal("-30000.00"), 70000)
    assert row.description == tricky
    assert Transaction.objects.get(pk=second.transaction_id).balance_after == Decimal("20000.00")
    assert Invoice.objects.get(transaction_id=first.transaction_id).lines[0]["description"] == tricky
    assert Wallet.objects.get(user=user).balance == Decimal("20000.00")
    assert Wallet.objects.get(user=other_user).balance == Decimal("10000.00")
    for owner in (user, other_user):
        completed = Transaction.objects.filter(user=owner, status="COMPLETED").aggregate(s=Sum("amount"))["s"]
        assert Wallet.objects.get(user=owner).balance == completed

    # the same keys again: the earlier charges, nothing new; a key reused for another amount: refused
    again = services.wallet_charge_many(charges[:1])
    assert again == [services.Charged(transaction_id=first.transaction_id, amount=Decimal("30000.00"), replayed=True)]
    with pytest.raises(IdempotencyKeyMismatch):
        services.wallet_charge_many(
            [services.Charge(user_id=user.pk, amount=Decimal("1.00"), description="x", idempotency_key="k3")]
        )
    assert Transaction.objects.filter(user=user, type="CHARGE").count() == 2
    assert Wallet.objects.get(user=user).balance == Decimal("20000.00")


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_charges_is_numbered_at_commit_after_the_single_ones_before_it(user, other_user):
    completed_topup(user=user, amount="100000.00")
    completed_topup(user=other_user, amount="100000.00")
    charges = [
        services.Charge(user_id=u.pk, amount=Decimal("1000.00"), description=f"batch {n}", idempotency_key=f"b{n}")
        for n, u in enumerate([user, other_user, user, other_user])
    ]

    with transaction.atomic():
        charged = services.wallet_charge_many(charges)
        assert not Invoice.objects.filter(sequence__isnull=False, transaction__description__startswith="batch")
    single = services.wallet_charge(user=user, amount=Decimal("1000.00"), description="after")

    batch = [Invoice.objects.get(transaction_id=c.transaction_id) for c in charged]
    assert sorted(i.sequence for i in batch) == [3, 4, 5, 6]  # after the two top-ups
    assert Invoice.objects.get(transaction=single).sequence == 7
    assert InvoiceSequence.objects.get().last_number == 7
    assert {i.number for i in batch} == {f"INV-{i.year}-{i.sequence:06d}" for i in batch}
