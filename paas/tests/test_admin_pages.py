"""Every page of the operator console renders for an administrator, for every registered model.

A wrong name in ``list_display``, ``search_fields`` or ``list_filter`` only fails when the page is
opened; this walks them all, with data in the tables, so operators never meet a server error.
"""

import uuid

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import DEFAULT_PASSWORD
from billing import services as billing_services
from billing.models import Transaction
from billing.tests.factories import notification_for
from catalog.tests.factories import PlanFactory
from conftest import client_for
from notifications.tests.factories import EmailMessageFactory, WebhookDeliveryFactory
from pods import services as pods_services
from pods.models import ServiceInstance
from pods.tests.factories import make_instance, stray_secret
from subscriptions.tests.factories import buy as subscriptions_buy

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _an_instance_swept(cluster, user) -> None:
    """An instance running in the emulator, then a sweep: usage sampled, and an orphan found (a
    Secret labelled as ours whose instance the database does not know)."""
    instance = make_instance(user)
    pods_services.reconcile(instance.pk)
    cluster.tick()
    pods_services.reconcile(instance.pk)
    stray_secret(instance.namespace, instance_label=str(uuid.uuid4()))
    pods_services.sweep()


@pytest.fixture
def console(client, admin_user, user, cluster, django_capture_on_commit_callbacks):
    # One row in every table, made the way the product makes them: a top-up through the API
    # (idempotency record) paid by a signed notification (audit log, ledger, wallet, invoice),
    # a charge, a plan, an email, a webhook delivery, tokens, and a periodic task.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(
            "/api/v1/billing/topups", {"amount": "50000.00"}, HTTP_IDEMPOTENCY_KEY="console-1"
        )
        topup = Transaction.objects.get(pk=response.json()["id"])
        assert client.post(
            "/api/v1/billing/midtrans/notification", notification_for(topup, "settlement"), "application/json"
        ).json()
        billing_services.wallet_charge(user=user, amount="1000.00", description="console check")
    RefreshToken.for_user(user).blacklist()
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="console check", task="accounts.tokens_flush_expired", interval=every_minute)
    CrontabSchedule.objects.create(minute="0", hour="3")
    SolarSchedule.objects.create(event="sunrise", latitude="-6.2", longitude="106.8")
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    PlanFactory()
    EmailMessageFactory(user=user)
    WebhookDeliveryFactory()
    _an_instance_swept(cluster, user)
    subscriptions_buy(user)
    client.login(username=admin_user.email, password=DEFAULT_PASSWORD)
    # An operator action through the console, so the audit trail has a row.
    instance = ServiceInstance.objects.first()
    changelist = reverse("admin:pods_serviceinstance_changelist")
    client.post(changelist, {"action": "reconcile_now", "_selected_action": [str(instance.pk)]})
    return client


@pytest.mark.parametrize(("model", "model_admin"), MODELS, ids=[m._meta.label for m, _ in MODELS])
def test_changelist_search_add_and_change_pages_render(console, model, model_admin):
    info = (model._meta.app_label, model._meta.model_name)
    changelist = reverse("admin:{}_{}_changelist".format(*info))
    assert console.get(changelist).status_code == 200
    if model_admin.search_fields:
        assert console.get(changelist, {"q": "zz"}).status_code == 200
    response = console.get(reverse("admin:{}_{}_add".format(*info)))
    assert response.status_code in {200, 403}  # 403: rows made only by services (the ledger)
    obj = model._default_manager.first()
    if obj is not None:
        assert console.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200


def test_every_registered_model_has_rows_in_the_walk(console):
    # Guards the walk itself: a model with no row would skip its change page silently.
    empty = sorted(m._meta.label for m, _ in MODELS if not m._default_manager.exists())
    assert empty == []
