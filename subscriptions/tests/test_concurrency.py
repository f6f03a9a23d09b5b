"""Races on PostgreSQL: real threads, real row locks, real connections."""

from datetime import timedelta

import pytest
import time_machine

from accounts.tests.factories import UserFactory
from billing.exceptions import InsufficientBalance
from billing.models import Transaction
from paas.tests.threads import race
from pods.tests.factories import seeded_plan
from subscriptions import services
from subscriptions.models import Subscription

from .factories import buy, fund

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_billing_clocks_at_once_charge_each_period_once(cluster):
    price = seeded_plan().price_monthly
    paying, short = [], []
    for n in range(12):
        user = UserFactory()
        subscription = buy(user)
        (paying if n % 3 else short).append(subscription)
        if n % 3:
            fund(user, f"{price:.2f}")
    due = max(s.current_period_end for s in paying + short) + timedelta(minutes=1)

    with time_machine.travel(due, tick=False):
        reports = race(lambda: services.billing_clock(batch_size=3), lambda: services.billing_clock(batch_size=3))

    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.renewed for r in reports) == len(paying)
    assert sum(r.suspended for r in reports) == len(short)
    for subscription in paying:
        charges = Transaction.objects.filter(subscription_id=subscription.pk, type="CHARGE")
        assert charges.count() == 2  # the purchase and one renewal
    assert set(Subscription.objects.filter(pk__in=[s.pk for s in short]).values_list("status", flat=True)) == {
        "SUSPENDED"
    }


def test_ten_purchases_at_once_with_money_for_three_make_three(cluster, user):
    plan = seeded_plan()
    fund(user, f"{plan.price_monthly * 3:.2f}")

    results = race(*[lambda: services.subscription_purchase(user=user, service=plan.service, plan=plan)] * 10)

    made = [r for r in results if isinstance(r, Subscription)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert (len(made), len(refused)) == (3, 7), results
    assert Subscription.objects.filter(user=user).count() == 3
    assert Transaction.objects.filter(user=user, type="CHARGE").count() == 3


def test_a_renew_racing_the_billing_clock_charges_the_period_once(cluster, user):
    subscription = buy(user)
    fund(user, f"{subscription.plan.price_monthly * 2:.2f}")
    due = subscription.current_period_end

    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        results = race(
            lambda: services.billing_clock(),
            lambda: services.subscription_renew(subscription=subscription, actor=user),
        )

    assert not [r for r in results if isinstance(r, Exception)], results
    renewals = Transaction.objects.filter(subscription_id=subscription.pk, idempotency_key__startswith="renew:")
    assert renewals.count() == 1
    subscription.refresh_from_db()
    # Whichever won, the due period was renewed from where the last one ended.
    assert subscription.status == "ACTIVE" and subscription.current_period_start == due
