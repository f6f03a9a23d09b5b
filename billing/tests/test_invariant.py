"""Property: whatever sequence of money operations runs, balance == sum(completed amounts)."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminFactory, UserFactory
from billing import services
from billing.exceptions import AlreadyRefunded, InsufficientBalance, NotRefundable
from billing.gateways import PaymentStatus
from billing.models import Transaction, Wallet

from .factories import notification_for

amounts = st.integers(min_value=10_000, max_value=500_000).map(Decimal)
small = st.integers(min_value=1, max_value=300_000).map(Decimal)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("topup"), amounts),
        st.tuples(st.just("pay_status"), st.sampled_from(["settlement", "pending", "capture", "deny", "expire"])),
        st.tuples(st.just("charge"), small),
        st.tuples(st.just("refund_charge"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("reverse_topup"), st.sampled_from(["deny", "refund", "chargeback"])),
        st.tuples(st.just("adjust"), st.integers(min_value=-100_000, max_value=100_000)),
    ),
    min_size=1,
    max_size=25,
)


def _apply(topup, status: str) -> None:
    services.topup_apply_status(topup_id=topup.pk, status=PaymentStatus.from_midtrans(notification_for(topup, status)))


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_balance_always_equals_the_sum_of_completed_transactions(ops):
    user = UserFactory()
    admin = AdminFactory()
    topups: list[Transaction] = []
    charges: list[Transaction] = []
    for op, arg in ops:
        try:
            if op == "topup":
                topups.append(services.topup_create(user=user, amount=arg))
            elif op == "pay_status" and topups:
                _apply(topups[-1], arg)
            elif op == "charge":
                charges.append(services.wallet_charge(user=user, amount=arg, description="charge"))
            elif op == "refund_charge" and charges:
                services.wallet_refund(user=user, original=charges[arg % len(charges)], description="refund")
            elif op == "reverse_topup" and topups:
                _apply(topups[0], arg)
            elif op == "adjust" and arg != 0:
                services.wallet_adjust(actor=admin, user=user, amount=Decimal(arg), reason="property test")
        except (InsufficientBalance, AlreadyRefunded, NotRefundable):
            pass

        wallet = Wallet.objects.filter(user=user).first()
        balance = wallet.balance if wallet else Decimal("0.00")
        total = Transaction.objects.filter(user=user, status="COMPLETED").aggregate(s=Sum("amount"))["s"] or 0
        assert balance == total
        # Below zero only through a clawback, and then the wallet is flagged as in debt.
        if balance < 0:
            assert wallet.debt_since is not None
            assert Transaction.objects.filter(user=user, type="REFUND", related__type="TOPUP").exists()
        # No top-up is ever credited twice.
        for topup in topups:
            assert Transaction.objects.filter(pk=topup.pk, status="COMPLETED").count() <= 1
