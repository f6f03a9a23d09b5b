"""After every subscriptions test: the ledger invariant, and nothing charged twice for a period."""

from collections import Counter

import pytest
from django.db.models import Sum

from billing.models import Transaction, Wallet
from catalog.services import catalog_seed
from notifications.tests.conftest import receiver  # noqa: F401  (a webhook receiver on this machine)


def assert_ledger_invariant() -> None:
    completed = dict(
        Transaction.objects.filter(status=Transaction.Status.COMPLETED)
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    for wallet in Wallet.objects.all():
        assert wallet.balance == completed.get(wallet.user_id, 0), f"wallet {wallet.user_id} drifted from its ledger"
        assert wallet.balance >= 0 or wallet.debt_since is not None
    keys = Counter(
        Transaction.objects.filter(type="CHARGE", idempotency_key__startswith="renew:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert not [key for key, count in keys.items() if count > 1], "a period was charged twice"


@pytest.fixture(autouse=True)
def _catalog(request):
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        catalog_seed()


@pytest.fixture(autouse=True)
def _ledger_invariant(request):
    yield
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        assert_ledger_invariant()
