"""The billing clock's batch path: renewals and suspensions written in bulk, with the same result
as one subscription at a time, a constant number of queries per batch, and nothing done twice."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.tests.factories import UserFactory
from billing.models import Invoice, Transaction
from billing.selectors import wallet_balance
from notifications.models import EmailMessage, WebhookDelivery
from notifications.services import webhook_endpoint_create
from pods.models import InstanceEvent, ServiceInstance
from pods.tests.factories import seeded_plan
from subscriptions import services
from subscriptions.models import Subscription, SubscriptionEvent

from .factories import buy, fund

pytestmark = pytest.mark.django_db

Status = Subscription.Status


def _customers(paying: int, short: int) -> tuple[list[Subscription], list[Subscription]]:
    """Subscriptions of new customers: ``paying`` with the next period's money, ``short`` without."""
    price = seeded_plan().price_monthly
    paid, unpaid = [], []
    for n in range(paying + short):
        user = UserFactory()
        subscription = buy(user)
        if n < paying:
            fund(user, f"{price:.2f}")
            paid.append(subscription)
        else:
            unpaid.append(subscription)
    return paid, unpaid


def _due(subscriptions) -> timezone.datetime:
    return max(s.current_period_end for s in subscriptions) + timedelta(minutes=1)


def test_a_batch_renews_the_paid_and_suspends_the_short_and_a_second_run_changes_nothing(
    cluster, receiver, settings, django_capture_on_commit_callbacks
):
    # given: five customers with the next period's money (one listening on a webhook), three without
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on this machine
    paid, unpaid = _customers(paying=5, short=3)
    listener = paid[0].user
    webhook_endpoint_create(user=listener, url=receiver.url, events=["subscription.renewed"])
    price = paid[0].plan.price_monthly
    ends = {s.pk: s.current_period_end for s in paid + unpaid}
    at = _due(paid + unpaid)

    # when: the clock runs, three subscriptions a batch
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        report = services.billing_clock(batch_size=3)

    # then: the paid ones start their next period where the last one ended, at the price charged
    assert (report.renewed, report.suspended) == (5, 3)
    for subscription in paid:
        renewed = Subscription.objects.get(pk=subscription.pk)
        start = ends[subscription.pk]
        assert renewed.status == Status.ACTIVE
        assert (renewed.current_period_start, renewed.current_period_end) == (start, start + timedelta(days=30))
        assert (renewed.period_price, renewed.period_paid, renewed.warned_for) == (price, price, None)
        charge = Transaction.objects.get(subscription_id=subscription.pk, idempotency_key__startswith="renew:")
        assert charge.idempotency_key == f"renew:{subscription.pk}:{start.isoformat()}"
        assert (charge.type, charge.status, charge.amount) == ("CHARGE", "COMPLETED", -price)
        assert charge.description.startswith(f"{subscription.service.name} {subscription.plan.name}, ")
        assert Invoice.objects.filter(transaction=charge, total=price).exists()
        event = renewed.events.get(reason="Renewed")
        assert (event.amount, event.from_status, event.to_status) == (-price, "ACTIVE", "ACTIVE")
        assert event.message == f"Paid until {start + timedelta(days=30):%d %b %Y}."
        assert wallet_balance(user=subscription.user) == 0
    # the short ones are suspended for the grace period, their apps asked to stop, their owners told
    for subscription in unpaid:
        suspended = Subscription.objects.get(pk=subscription.pk)
        assert suspended.status == Status.SUSPENDED
        assert suspended.grace_until == at + timedelta(days=7)
        assert suspended.suspended_at == at
        assert suspended.current_period_end == ends[subscription.pk]
        event = suspended.events.get(reason="RenewalUnpaid")
        assert (event.from_status, event.to_status) == ("ACTIVE", "SUSPENDED")
        assert event.message == f"The balance did not cover the renewal of {price:.2f} IDR."
        instance = ServiceInstance.objects.get(pk=subscription.instance_id)
        assert instance.desired_state == "STOPPED"
        assert instance.generation == subscription.instance.generation + 1
        assert instance.next_reconcile_at <= at  # the reconcile loop's due scan stops it
        assert instance.events.filter(reason="SubscriptionSuspended", kind=InstanceEvent.Kind.ACTION).count() == 1
        email = EmailMessage.objects.get(user=subscription.user, template="subscription-suspended")
        assert email.context["subscription"]["status"] == "SUSPENDED"
        assert email.context["subscription"]["id"] == str(subscription.pk)
        assert email.context["balance"] == "0.00" and email.context["amount"] == f"{price:.2f}"
        assert not Transaction.objects.filter(subscription_id=subscription.pk, idempotency_key__startswith="renew:")
    # the listener's webhook, delivered, says what was renewed, from when
    (delivery,) = WebhookDelivery.objects.filter(endpoint__user=listener)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    (received,) = receiver.requests
    body = received.json()
    assert body["event"] == "subscription.renewed"
    assert body["data"]["subscription"]["id"] == str(paid[0].pk)
    start = parse_datetime(body["data"]["subscription"]["current_period_start"])
    assert abs(start - ends[paid[0].pk]) < timedelta(milliseconds=1)  # JSON keeps milliseconds
    assert body["data"]["amount"] == f"{price:.2f}"

    # when: the clock runs again (beat's next tick, or a retry)
    ledger = Transaction.objects.count()
    history = SubscriptionEvent.objects.count()
    with time_machine.travel(at + timedelta(minutes=2), tick=False), django_capture_on_commit_callbacks(execute=True):
        again = services.billing_clock(batch_size=3)

    # then: nothing is due any more, nothing is charged or written again
    assert (again.renewed, again.suspended, again.cancelled, again.expired) == (0, 0, 0, 0)
    assert Transaction.objects.count() == ledger
    assert SubscriptionEvent.objects.count() == history
    assert EmailMessage.objects.filter(template="subscription-suspended").count() == 3


def test_a_batch_costs_the_same_queries_whatever_its_size(cluster, django_capture_on_commit_callbacks):
    # given: a batch of three due first (two paid, one short), and one of nine (six, three) due
    # later than the expiry warnings look ahead, so each run has one batch of renewals only
    small = _customers(paying=2, short=1)
    small_due = _due(small[0] + small[1])
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        large = _customers(paying=6, short=3)
    large_due = _due(large[0] + large[1])

    def queries(at) -> tuple[int, services.ClockReport]:
        with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as captured:
            with django_capture_on_commit_callbacks() as after_commit:
                report = services.billing_clock(batch_size=100)
            # What follows the commit (the owners' emails and webhooks written), not what the
            # tasks it queues do later in a worker (sending them).
            with django_capture_on_commit_callbacks():
                for callback in after_commit:
                    callback()
        assert EmailMessage.objects.filter(template="subscription-suspended").exists()
        return len(captured), report

    # when: each batch runs
    few, first = queries(small_due)
    many, second = queries(large_due)

    # then: the same queries for nine as for three
    assert (first.renewed, first.suspended, second.renewed, second.suspended) == (2, 1, 6, 3)
    assert many == few


def test_the_rare_cases_of_a_batch_are_settled_one_by_one_beside_the_bulk_ones(
    cluster, django_capture_on_commit_callbacks
):
    # given: in one batch, a plain renewal, one with automatic renewal off, one cancelling at the
    # end of its period, and one whose app has been down since an hour before the period ended
    (plain, no_renew, cancelling, down), _ = _customers(paying=4, short=0)
    services.subscription_update(subscription=no_renew, data={"auto_renew": False})
    services.subscription_cancel(subscription=cancelling)
    at = _due([plain, no_renew, cancelling, down])
    down_since = down.current_period_end - timedelta(hours=1)
    Subscription.objects.filter(pk=down.pk).update(downtime_since=down_since, downtime_reason="CrashLoopBackOff")

    # when
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        report = services.billing_clock()

    # then: each is what it would be on its own
    assert (report.renewed, report.suspended, report.cancelled) == (2, 1, 1)
    assert Subscription.objects.get(pk=plain.pk).current_period_start == plain.current_period_end
    assert Subscription.objects.get(pk=no_renew.pk).status == Status.SUSPENDED
    assert Subscription.objects.get(pk=no_renew.pk).events.filter(reason="AutoRenewOff").exists()
    assert Subscription.objects.get(pk=cancelling.pk).status == Status.CANCELLED
    assert ServiceInstance.objects.get(pk=cancelling.instance_id).desired_state == "DELETED"
    renewed = Subscription.objects.get(pk=down.pk)
    assert renewed.current_period_start == down.current_period_end
    # the hour of downtime in the old period is credited, and downtime goes on counting in the new one
    assert renewed.downtime_since == down.current_period_end
    credit = Transaction.objects.get(subscription_id=down.pk, type="REFUND")
    assert credit.amount == Decimal("105.00")  # 1 h of 75,000 a month: 104.17 -> 105 (up)
    assert not Transaction.objects.filter(subscription_id__in=[no_renew.pk, cancelling.pk], type="CHARGE").exclude(
        idempotency_key__startswith="purchase:"
    )


def test_owners_are_warned_once_before_a_period_ends_unpaid(
    cluster, receiver, settings, django_capture_on_commit_callbacks
):
    # given: one owner whose balance covers the renewal, one whose does not (listening for
    # balance.low), and one who turned automatic renewal off
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on this machine
    (covered, no_renew), (short,) = _customers(paying=2, short=1)
    services.subscription_update(subscription=no_renew, data={"auto_renew": False})
    webhook_endpoint_create(user=short.user, url=receiver.url, events=["balance.low"])
    at = _due([covered, no_renew, short]) - timedelta(days=2)

    # when: the clock runs two days before the periods end, twice
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = services.billing_clock()
        second = services.billing_clock()

    # then: the two whose period will end unpaid are told, once; every one looked at is marked
    assert (first.warned, second.warned) == (2, 0)
    assert (first.renewed, first.suspended) == (0, 0)
    expiring = EmailMessage.objects.filter(template="subscription-expiring")
    assert sorted(expiring.values_list("user_id", flat=True)) == sorted([no_renew.user_id, short.user_id])
    assert expiring.get(user=short.user).context["subscription"]["id"] == str(short.pk)
    (received,) = receiver.requests
    body = received.json()
    assert body["event"] == "balance.low"
    assert body["data"]["subscription_id"] == str(short.pk)
    assert body["data"]["balance"] == "0.00"
    assert parse_datetime(body["data"]["runs_out_at"]) == short.current_period_end.replace(
        microsecond=short.current_period_end.microsecond // 1000 * 1000
    )
    for subscription in (covered, no_renew, short):
        marked = Subscription.objects.get(pk=subscription.pk)
        assert marked.warned_for == marked.current_period_end
