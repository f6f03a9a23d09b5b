import pytest

from billing.exceptions import InsufficientBalance
from billing.models import Invoice, Transaction
from billing.selectors import wallet_balance
from notifications.models import EmailMessage
from pods.models import ServiceInstance
from subscriptions.models import Subscription

from .factories import buy, fund

pytestmark = pytest.mark.django_db


def test_a_purchase_charges_the_first_period_and_creates_the_app(user, cluster, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        subscription = buy(user, name="Team flows")

    assert subscription.status == "ACTIVE"
    assert (subscription.current_period_end - subscription.current_period_start).days == 30
    charge = Transaction.objects.get(type="CHARGE", subscription_id=subscription.pk)
    assert charge.amount == -subscription.plan.price_monthly and charge.idempotency_key == f"purchase:{subscription.pk}"
    assert Invoice.objects.filter(transaction=charge).exists()
    assert wallet_balance(user=user) == 0
    instance = ServiceInstance.objects.get(pk=subscription.instance_id)
    assert instance.name == "Team flows" and instance.status == "PROVISIONING"  # the eager worker ran
    assert EmailMessage.objects.filter(user=user, template="subscription-created").exists()


def test_short_of_money_nothing_is_created(user, cluster):
    fund(user, "10000.00")
    with pytest.raises(InsufficientBalance):
        buy(user, fund_first=False)
    assert not Subscription.objects.exists() and not ServiceInstance.objects.exists()
    assert wallet_balance(user=user) == 10000
