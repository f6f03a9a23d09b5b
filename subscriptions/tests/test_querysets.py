"""The words the clock, the reactions and the console share about subscriptions
(``Subscription.objects``), each pinned to its meaning."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.models import Plan
from catalog.pricing import plan_price, plan_price_of
from catalog.tests.factories import PlanFactory, ServiceFactory
from subscriptions.models import Subscription
from subscriptions.services.purchase import check_sellable

from .factories import buy

pytestmark = pytest.mark.django_db

Status = Subscription.Status


def _subscription(name: str, **state) -> Subscription:
    subscription = buy(UserFactory(), name=name)
    if "current_period_end" in state:
        state["current_period_start"] = state["current_period_end"] - timedelta(days=30)
    Subscription.objects.filter(pk=subscription.pk).update(**state)
    subscription.refresh_from_db()
    return subscription


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def subscriptions(cluster, now) -> list[Subscription]:
    """One subscription in each state that matters, named after it."""
    hour = timedelta(hours=1)
    return [
        _subscription("active", current_period_end=now + hour),
        _subscription("active-due", current_period_end=now - hour),
        _subscription("active-due-now", current_period_end=now),
        _subscription("suspended", status=Status.SUSPENDED, grace_until=now + hour, suspended_at=now),
        _subscription("suspended-renewal-off", status=Status.SUSPENDED, grace_until=now + hour, auto_renew=False),
        _subscription(
            "suspended-grace-over", status=Status.SUSPENDED, grace_until=now - hour, current_period_end=now - hour
        ),
        _subscription("cancelled", status=Status.CANCELLED, current_period_end=now - hour, ended_at=now),
        _subscription("expired", status=Status.EXPIRED, current_period_end=now - hour, ended_at=now),
    ]


def _names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_live_is_active_or_suspended_and_agrees_with_the_row_test(subscriptions):
    live = _names(Subscription.objects.live())
    assert live == {
        "active",
        "active-due",
        "active-due-now",
        "suspended",
        "suspended-renewal-off",
        "suspended-grace-over",
    }
    assert live == {s.name for s in subscriptions if s.is_live}


def test_due_is_active_with_its_period_ended_by_now(subscriptions, now):
    assert _names(Subscription.objects.due(now)) == {"active-due", "active-due-now"}


def test_grace_ended_is_suspended_with_its_grace_over_by_now(subscriptions, now):
    assert _names(Subscription.objects.grace_ended(now)) == {"suspended-grace-over"}


def test_resumable_is_suspended_with_automatic_renewal_on(subscriptions):
    assert _names(Subscription.objects.resumable()) == {"suspended", "suspended-grace-over"}


def test_the_price_read_in_python_and_in_a_query_is_the_plans_price(subscriptions):
    subscription = subscriptions[0]
    plan = Plan.objects.get(pk=subscription.plan_id)
    in_query = Subscription.objects.filter(pk=subscription.pk).annotate(price=plan_price_of("plan")).get().price
    assert plan_price(plan) == in_query == plan.price_monthly


def test_a_purchase_or_plan_change_refuses_exactly_the_plans_that_are_not_sellable():
    sold, withdrawn = ServiceFactory(), ServiceFactory(is_active=False)
    plans = [PlanFactory(service=sold), PlanFactory(service=sold, is_active=False), PlanFactory(service=withdrawn)]
    sellable = set(Plan.objects.sellable())
    assert len(sellable & set(plans)) == 1
    for plan in plans:
        try:
            check_sellable(plan.service, plan)
            refused = False
        except ValidationError:
            refused = True
        assert refused == (plan not in sellable), plan.slug
