"""The console's front page: the money of today, read through the ledger totals."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing import services as billing_services
from billing.tests.factories import completed_topup
from paas.dashboard import dashboard

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, tzinfo=timezone.get_fixed_timezone(0))


def _tiles(section: str) -> dict[str, str]:
    return {tile.label: tile.value for name, tiles in dashboard() if name == section for tile in tiles}


def test_money_today_counts_what_completed_today_only(user):
    # given: money moved yesterday and today
    for when, charged in ((NOON - timedelta(days=1), "40000.00"), (NOON, "30000.00")):
        with time_machine.travel(when, tick=False):
            completed_topup(user=user, amount="100000.00")
            charge = billing_services.wallet_charge(user=user, amount=Decimal(charged), description="plan")
            billing_services.wallet_refund(user=user, original=charge, amount=Decimal("1000.00"), description="x")
    billing_services.topup_create(user=user, amount=Decimal("20000.00"))
    # when
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        money = _tiles("Money today")
    # then
    assert money == {
        "Revenue": "Rp 30.000",
        "Top-ups": "Rp 100.000",
        "Refunds": "Rp 1.000",
        "Pending top-ups": "1",
    }
