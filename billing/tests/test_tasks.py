"""Beat work: expiring unpaid top-ups and reconciling stale ones with the status API."""

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
import time_machine
from django.utils import timezone

from billing import services
from billing.models import Transaction, Wallet
from billing.tasks import topups_reconcile_task

from .factories import notification_for

pytestmark = pytest.mark.django_db

CORE = "https://api.sandbox.midtrans.com/v2/{order_id}/{action}"


def test_unpaid_topups_past_their_deadline_expire(user, settings):
    settings.TOPUP_EXPIRY_MINUTES = 60
    due = services.topup_create(user=user, amount=Decimal("10000.00"))
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        fresh = services.topup_create(user=user, amount=Decimal("10000.00"))
        assert topups_reconcile_task() == 1  # only the one past its deadline (fresh is not stale yet)

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert due.status == Transaction.Status.EXPIRED
    assert fresh.status == Transaction.Status.PENDING
    assert topups_reconcile_task() == 0  # nothing left to do: idempotent


def test_a_paid_but_unnotified_topup_is_credited_by_the_reconcile(user, settings):
    # given: a Midtrans top-up whose notifications were lost
    topup = services.topup_create(user=user, amount=Decimal("75000.00"))
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.TOPUP_STALE_MINUTES = 30
    with responses.RequestsMock() as mock, time_machine.travel(timezone.now() + timedelta(minutes=31)):
        mock.get(CORE.format(order_id=topup.order_id, action="status"), json=notification_for(topup, "settlement"))
        # when
        assert topups_reconcile_task() == 1

    # then
    topup.refresh_from_db()
    assert topup.status == Transaction.Status.COMPLETED
    assert Wallet.objects.get(user=user).balance == Decimal("75000.00")


def test_a_pending_topup_past_its_deadline_is_expired_at_the_gateway_too(user, settings):
    settings.TOPUP_EXPIRY_MINUTES = 60
    topup = services.topup_create(user=user, amount=Decimal("75000.00"))
    settings.PAYMENT_GATEWAY = "midtrans"
    with responses.RequestsMock() as mock, time_machine.travel(timezone.now() + timedelta(minutes=61)):
        mock.get(CORE.format(order_id=topup.order_id, action="status"), json=notification_for(topup, "pending"))
        expire = mock.post(CORE.format(order_id=topup.order_id, action="expire"), json={"status_code": "407"})
        topups_reconcile_task()
        assert expire.call_count == 1

    topup.refresh_from_db()
    assert topup.status == Transaction.Status.EXPIRED


def test_a_never_started_stale_topup_stays_pending_until_its_deadline(user, settings):
    topup = services.topup_create(user=user, amount=Decimal("75000.00"))
    settings.PAYMENT_GATEWAY = "midtrans"
    settings.TOPUP_STALE_MINUTES = 30
    with responses.RequestsMock() as mock, time_machine.travel(timezone.now() + timedelta(minutes=31)):
        mock.get(
            CORE.format(order_id=topup.order_id, action="status"),
            json={"status_code": "404", "status_message": "Transaction doesn't exist."},
            status=404,
        )
        topups_reconcile_task()

    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING


def test_status_api_outage_is_left_for_a_retry_without_changes(user, settings):
    from celery.exceptions import Retry

    from billing.gateways import GatewayUnavailable
    from billing.tasks import topup_sync_task

    topup = services.topup_create(user=user, amount=Decimal("75000.00"))
    settings.PAYMENT_GATEWAY = "midtrans"
    with responses.RequestsMock() as mock:
        mock.get(CORE.format(order_id=topup.order_id, action="status"), status=503, body="busy")
        with pytest.raises(GatewayUnavailable):
            services.topup_sync(topup_id=topup.pk)
        # Run as a worker would: the task schedules a retry for this error instead of failing.
        with pytest.raises(Retry):
            topup_sync_task.apply(args=[str(topup.pk)])

    topup.refresh_from_db()
    assert topup.status == Transaction.Status.PENDING
