"""Ledger totals: revenue, top-ups and refunds over a time range, as the console and /metrics read them."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services
from billing.selectors import LedgerTotals, ledger_totals

from .factories import completed_topup

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, tzinfo=timezone.get_fixed_timezone(0))


def _movements_at(when: datetime, user, admin_user) -> None:
    """One of each kind of movement, completed at ``when``: 100 000 in, 30 000 charged, 5 000 of
    it refunded, 10 000 of the top-up taken back, an adjustment, and a top-up never paid."""
    with time_machine.travel(when, tick=False):
        topup = completed_topup(user=user, amount="100000.00")
        charge = services.wallet_charge(user=user, amount=Decimal("30000.00"), description="plan")
        services.wallet_refund(user=user, original=charge, amount=Decimal("5000.00"), description="pro rata")
        services.wallet_refund(user=user, original=topup, amount=Decimal("10000.00"), description="taken back")
        services.wallet_adjust(actor=admin_user, user=user, amount=Decimal("700.00"), reason="Goodwill")
        services.topup_create(user=user, amount=Decimal("20000.00"))


def test_totals_count_completed_money_by_kind_as_positive_amounts(user, admin_user):
    _movements_at(DAY, user, admin_user)

    assert ledger_totals() == LedgerTotals(
        revenue=Decimal("30000.00"), topups=Decimal("100000.00"), refunds=Decimal("5000.00")
    )


def test_totals_of_a_range_include_its_start_and_exclude_its_end(user, admin_user):
    # given: the same movements a second before the day, at its first instant, and at the next day's
    for when in (DAY - timedelta(seconds=1), DAY, DAY + timedelta(days=1)):
        _movements_at(when, user, admin_user)
    # when
    day = ledger_totals(since=DAY, until=DAY + timedelta(days=1))
    # then: only the movements at the day's first instant
    assert day == LedgerTotals(revenue=Decimal("30000.00"), topups=Decimal("100000.00"), refunds=Decimal("5000.00"))
    assert ledger_totals(since=DAY).revenue == Decimal("60000.00")
    assert ledger_totals(until=DAY).topups == Decimal("100000.00")


def test_totals_of_an_empty_ledger_are_zero():
    assert ledger_totals() == LedgerTotals(revenue=Decimal(0), topups=Decimal(0), refunds=Decimal(0))
