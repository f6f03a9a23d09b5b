"""Whole lives of subscriptions, walked through time (time-machine) against the emulated cluster."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing.models import Transaction
from billing.selectors import wallet_balance
from billing.tests.factories import completed_topup
from notifications.models import EmailMessage
from paas.exceptions import InvalidState
from pods import services as pods
from pods.models import ServiceInstance
from pods.tests.factories import seeded_plan
from subscriptions import services, tasks
from subscriptions.models import Subscription

from .factories import buy, fund

pytestmark = pytest.mark.django_db

Status = Subscription.Status


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (reconciles, emails, reactions), as a worker would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def converge(cluster, subscription) -> ServiceInstance:
    """Let the reconcile loop and the simulated cluster settle the instance."""
    for _ in range(2):
        pods.reconcile(subscription.instance_id)
        cluster.tick()
    pods.reconcile(subscription.instance_id)
    return ServiceInstance.objects.get(pk=subscription.instance_id)


def fresh(subscription) -> Subscription:
    return Subscription.objects.select_related("instance").get(pk=subscription.pk)


def test_buy_renew_twice_run_short_suspend_top_up_resume_cancel_at_period_end(user, cluster, on_commit):
    price = seeded_plan().price_monthly  # 75,000
    fund(user, f"{price * 3:.2f}")
    subscription = on_commit(buy, user, fund_first=False)
    assert converge(cluster, subscription).status == "RUNNING"
    start = subscription.current_period_start

    for month in (1, 2):
        with time_machine.travel(start + timedelta(days=30 * month, minutes=1), tick=False):
            report = on_commit(services.billing_clock)
            assert report.renewed == 1
    subscription = fresh(subscription)
    assert subscription.current_period_start == start + timedelta(days=60)
    assert wallet_balance(user=user) == 0
    renewals = Transaction.objects.filter(subscription_id=subscription.pk, idempotency_key__startswith="renew:")
    assert renewals.count() == 2

    short_at = start + timedelta(days=90, minutes=1)
    with time_machine.travel(short_at, tick=False):
        assert on_commit(services.billing_clock).suspended == 1
        subscription = fresh(subscription)
        assert subscription.status == Status.SUSPENDED
        assert subscription.grace_until == short_at + timedelta(days=7)
        assert subscription.instance.desired_state == "STOPPED"
        assert converge(cluster, subscription).status == "STOPPED"  # data kept, app paused
        assert EmailMessage.objects.filter(user=user, template="subscription-suspended").exists()

    # Three days later the customer tops up: resumed at once, the new period starting now.
    resumed_at = short_at + timedelta(days=3)
    with time_machine.travel(resumed_at, tick=False):
        on_commit(completed_topup, user=user, amount=f"{price:.2f}")
        subscription = fresh(subscription)
        assert subscription.status == Status.ACTIVE
        assert subscription.current_period_start == resumed_at  # suspended time is not billed
        assert subscription.instance.desired_state == "RUNNING"
        assert converge(cluster, subscription).status == "RUNNING"
        services.subscription_cancel(subscription=subscription, actor=user)
        assert fresh(subscription).cancel_at_period_end is True

    with time_machine.travel(resumed_at + timedelta(days=30, minutes=1), tick=False):
        assert on_commit(services.billing_clock).cancelled == 1
    subscription = fresh(subscription)
    assert subscription.status == Status.CANCELLED and subscription.instance.desired_state == "DELETED"
    assert Transaction.objects.filter(subscription_id=subscription.pk, type="CHARGE").count() == 4
    assert wallet_balance(user=user) == 0


def test_unpaid_through_the_grace_period_expires(user, cluster, on_commit):
    subscription = on_commit(buy, user)
    end = subscription.current_period_end
    with time_machine.travel(end + timedelta(minutes=1), tick=False):
        on_commit(services.billing_clock)
    with time_machine.travel(end + timedelta(days=7, minutes=2), tick=False):
        assert on_commit(services.billing_clock).expired == 1
    subscription = fresh(subscription)
    assert subscription.status == Status.EXPIRED and subscription.instance.desired_state == "DELETED"
    assert EmailMessage.objects.filter(user=user, template="subscription-expired").exists()
    with pytest.raises(Exception, match="cannot be renewed"):
        services.subscription_renew(subscription=subscription)


def test_a_top_up_whose_reaction_was_lost_is_resumed_by_the_next_clock_tick(user, cluster, on_commit):
    subscription = on_commit(buy, user)
    end = subscription.current_period_end
    with time_machine.travel(end + timedelta(minutes=1), tick=False):
        on_commit(services.billing_clock)
    assert fresh(subscription).status == Status.SUSPENDED
    price = subscription.plan.price_monthly

    with time_machine.travel(end + timedelta(days=1), tick=False):
        # The money arrives, but what waited for the commit never runs (a broker down at that moment).
        completed_topup(user=user, amount=f"{price:.2f}")
        assert fresh(subscription).status == Status.SUSPENDED
        assert services.resumes_due() == [user.pk]
        on_commit(tasks.billing_clock_tick_task)
        subscription = fresh(subscription)
        assert subscription.status == Status.ACTIVE
        assert subscription.current_period_start == end + timedelta(days=1)
        assert subscription.instance.desired_state == "RUNNING"
        assert services.resumes_due() == []
    assert wallet_balance(user=user) == 0


def test_money_does_not_resume_a_subscription_its_owner_let_lapse(user, cluster, on_commit):
    subscription = on_commit(buy, user)
    services.subscription_update(subscription=subscription, data={"auto_renew": False}, actor=user)
    end = subscription.current_period_end
    with time_machine.travel(end + timedelta(minutes=1), tick=False):
        on_commit(services.billing_clock)
    assert fresh(subscription).status == Status.SUSPENDED
    price = subscription.plan.price_monthly
    with time_machine.travel(end + timedelta(days=1), tick=False):
        on_commit(completed_topup, user=user, amount=f"{price:.2f}")
        assert services.resumes_due() == []
        on_commit(tasks.billing_clock_tick_task)
    assert fresh(subscription).status == Status.SUSPENDED
    assert wallet_balance(user=user) == price  # renewing it stays the owner's call
    on_commit(services.subscription_renew, subscription=fresh(subscription))
    assert fresh(subscription).status == Status.ACTIVE


def test_change_plan_up_and_down_then_cancel_now_refunds_to_the_rupiah(user, cluster, on_commit):
    starter, pro = seeded_plan("n8n", "starter"), seeded_plan("n8n", "pro")  # 75,000 and 150,000
    fund(user, "200000.00")
    subscription = on_commit(buy, user, fund_first=False)
    converge(cluster, subscription)
    t0 = subscription.current_period_start

    # 10 days 1 hour in: 1,724,400 of 2,592,000 s left; 75,000 * that share = 49,895.83 -> 49,895 (down).
    with time_machine.travel(t0 + timedelta(days=10, hours=1), tick=False):
        on_commit(services.subscription_change_plan, subscription=subscription, plan=pro, actor=user)
        assert converge(cluster, subscription).status == "RUNNING"
    upgrade = Transaction.objects.filter(subscription_id=subscription.pk, type="CHARGE").latest("created_at")
    assert upgrade.amount == Decimal("-49895.00")
    assert ServiceInstance.objects.get(pk=subscription.instance_id).plan == pro

    # 20 days in: 10 days left; (150,000 - 75,000) * 1/3 = 25,000 credited (exact).
    with time_machine.travel(t0 + timedelta(days=20), tick=False):
        on_commit(services.subscription_change_plan, subscription=subscription, plan=starter, actor=user)
        assert converge(cluster, subscription).status == "RUNNING"
    credit = Transaction.objects.filter(subscription_id=subscription.pk, type="REFUND").latest("created_at")
    assert credit.amount == Decimal("25000.00")

    # 25 days 3 h 20 min in: 420,000 s left; 75,000 * 420,000 / 2,592,000 = 12,152.78 -> 12,153 (up).
    with time_machine.travel(t0 + timedelta(days=25, hours=3, minutes=20), tick=False):
        on_commit(services.subscription_cancel, subscription=subscription, immediate=True, actor=user)
    refunds = Transaction.objects.filter(subscription_id=subscription.pk, type="REFUND").order_by("created_at")
    assert [r.amount for r in refunds] == [Decimal("25000.00"), Decimal("12153.00")]
    subscription = fresh(subscription)
    assert subscription.status == Status.CANCELLED and subscription.instance.desired_state == "DELETED"
    assert wallet_balance(user=user) == Decimal("200000.00") - 75000 - 49895 + 25000 + 12153


def test_cancelling_a_period_paid_ahead_refunds_the_time_paid_for(user, cluster, on_commit):
    fund(user, "150000.00")
    subscription = on_commit(buy, user, fund_first=False)  # 75,000 a period
    t0 = subscription.current_period_start
    with time_machine.travel(t0 + timedelta(days=1), tick=False):
        on_commit(services.subscription_renew, subscription=subscription, actor=user)
        assert fresh(subscription).current_period_end == t0 + timedelta(days=60)
        on_commit(services.subscription_cancel, subscription=fresh(subscription), immediate=True, actor=user)
    # 59 of the 60 paid days are left: 150,000 * 59 / 60 = 147,500.
    refund = Transaction.objects.get(subscription_id=subscription.pk, type="REFUND")
    assert refund.amount == Decimal("147500.00")
    assert wallet_balance(user=user) == Decimal("147500.00")


def test_free_days_an_operator_gave_are_not_paid_out_on_cancelling(user, admin_user, cluster, on_commit):
    subscription = on_commit(buy, user)  # 75,000 for 30 days
    t0 = subscription.current_period_start
    with time_machine.travel(t0 + timedelta(days=29), tick=False):
        services.subscription_extend(subscription=subscription, days=30, reason="outage", actor=admin_user)
        on_commit(services.subscription_cancel, subscription=fresh(subscription), immediate=True, actor=user)
    # 31 of the 60 days left, 30 of them paid for: what was paid, pro rata, 75,000 * 31 / 60.
    refund = Transaction.objects.get(subscription_id=subscription.pk, type="REFUND")
    assert refund.amount == Decimal("38750.00")


def test_resuming_what_is_no_longer_suspended_charges_nothing(user, admin_user, cluster, on_commit):
    subscription = on_commit(buy, user)
    with time_machine.travel(subscription.current_period_end + timedelta(minutes=1), tick=False):
        on_commit(services.billing_clock)
        fund(user, f"{subscription.plan.price_monthly * 2:.2f}")
        on_commit(services.subscription_resume, subscription=fresh(subscription), actor=user)
        charges = Transaction.objects.filter(subscription_id=subscription.pk, type="CHARGE").count()
        # The owner resumed it; the reaction to their top-up, or an operator, comes second.
        assert services.resume_paid(user_id=user.pk) == 0
        with pytest.raises(InvalidState):
            services.subscription_resume(subscription=fresh(subscription), actor=admin_user)
    assert Transaction.objects.filter(subscription_id=subscription.pk, type="CHARGE").count() == charges
    assert fresh(subscription).status == Status.ACTIVE


def test_an_app_that_never_starts_is_refunded_and_the_subscription_ends(user, cluster, settings, on_commit):
    cluster.set_image_patterns(pull_fail=r"n8nio/n8n")
    subscription = on_commit(buy, user)
    converge(cluster, subscription)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PAAS_PROVISION_TIMEOUT + 10), tick=False):
        on_commit(pods.reconcile, subscription.instance_id)

    subscription = fresh(subscription)
    assert subscription.instance.events.filter(to_status="FAILED").exists()
    assert subscription.instance.desired_state == "DELETED"
    assert subscription.status == Status.CANCELLED
    assert wallet_balance(user=user) == subscription.plan.price_monthly  # all of it back
    refund = Transaction.objects.get(subscription_id=subscription.pk, type="REFUND")
    assert "could not be started" not in refund.description  # the ledger says what it is
    assert "ImagePullBackOff" in subscription.events.get(reason="ProvisioningFailed").message
    cancelled = EmailMessage.objects.get(user=user, template="subscription-cancelled")
    assert "ImagePullBackOff" in cancelled.context["reason"]
    assert EmailMessage.objects.get(user=user, template="instance-failed").context["instance"]["ever_ready"] is False


def test_downtime_after_the_app_ran_is_credited_pro_rata(user, cluster, settings, on_commit):
    subscription = on_commit(buy, user)
    converge(cluster, subscription)
    cluster.set_image_patterns(crash=r"n8nio/n8n")
    pods.instance_restart(instance=subscription.instance)
    for _ in range(3):
        pods.reconcile(subscription.instance_id)
        cluster.tick()
    failed_at = timezone.now() + timedelta(seconds=settings.PAAS_PROVISION_TIMEOUT + 10)
    with time_machine.travel(failed_at, tick=False):
        on_commit(pods.reconcile, subscription.instance_id)
        assert fresh(subscription).instance.status == "FAILED"
        assert fresh(subscription).downtime_since is not None
    cluster.set_image_patterns(crash=None)
    with time_machine.travel(failed_at + timedelta(hours=2), tick=False):
        pods.instance_restart(instance=fresh(subscription).instance)
        pods.reconcile(subscription.instance_id)
        cluster.tick()
        on_commit(pods.reconcile, subscription.instance_id)
    subscription = fresh(subscription)
    assert subscription.instance.status == "RUNNING" and subscription.downtime_since is None
    credit = Transaction.objects.get(subscription_id=subscription.pk, type="REFUND")
    # 2 h of a 75,000 period: 208.33 -> 209 (up); the reason is on the ledger row.
    assert credit.amount == Decimal("209.00")
    assert "downtime" in credit.description and "CrashLoopBackOff" in credit.description
