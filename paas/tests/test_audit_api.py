"""Operators' API calls leave the same audit trail as the console: who, what, why, before, after."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from billing import services as billing
from paas.models import AuditEntry
from pods import services as pods
from pods.tests.factories import seeded_plan
from subscriptions.tests.factories import buy, fund

pytestmark = pytest.mark.django_db


def _entry(action: str) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(action=action))
    assert len(entries) == 1, [e.action for e in AuditEntry.objects.all()]
    return entries[0]


def test_instance_controls_are_audited_with_before_and_after(admin_client, admin_user, user, cluster):
    subscription = buy(user)
    pods.reconcile(subscription.instance_id)
    url = f"/api/v1/admin/pods/{subscription.instance_id}"

    assert admin_client.post(f"{url}/stop").status_code == 202
    assert (
        admin_client.post("/api/v1/admin/pods/reconcile", {"instance": str(subscription.instance_id)}).status_code
        == 202
    )

    stop = _entry("instance.stop")
    assert (stop.actor, stop.target_type, stop.target_id) == (
        admin_user,
        "pods.serviceinstance",
        str(subscription.instance_id),
    )
    assert (stop.before["desired_state"], stop.after["desired_state"]) == ("RUNNING", "STOPPED")
    assert stop.outcome == ""
    assert _entry("instance.reconcile_now").target_id == str(subscription.instance_id)


def test_money_moved_by_an_operator_is_audited_with_the_reason(admin_client, admin_user, user):
    fund(user, "100000.00")
    response = admin_client.post(
        "/api/v1/admin/billing/adjustments",
        {"user": str(user.pk), "amount": "-2500.00", "reason": "Duplicate promo credit"},
        format="json",
    )
    assert response.status_code == 201
    adjust = _entry("wallet.adjust")
    assert adjust.reason == "Duplicate promo credit"
    assert adjust.target_id == response.json()["id"] and adjust.after["amount"] == "-2500.00"

    charge = billing.wallet_charge(user=user, amount=Decimal("40000.00"), description="plan")
    refunded = admin_client.post(
        f"/api/v1/admin/billing/transactions/{charge.pk}/refund", {"reason": "Service was down"}, format="json"
    )
    assert refunded.status_code == 201
    refund = _entry("transaction.refund")
    assert (refund.actor, refund.reason, refund.target_id) == (admin_user, "Service was down", refunded.json()["id"])


def test_catalog_users_and_nodes_changed_over_the_api_are_audited(admin_client, user):
    plan = seeded_plan()
    url = f"/api/v1/admin/services/{plan.service_id}/plans/{plan.pk}"
    assert admin_client.patch(url, {"price_monthly": "99000.00"}, format="json").status_code == 200
    change = _entry("plan.change")
    assert (change.before["price_monthly"], change.after["price_monthly"]) == (str(plan.price_monthly), "99000.00")

    assert (
        admin_client.patch(f"/api/v1/admin/users/{user.pk}", {"role": "ADMINISTRATOR"}, format="json").status_code
        == 200
    )
    assert (_entry("user.change").before["role"], _entry("user.change").after["role"]) == ("USER", "ADMINISTRATOR")

    node = {
        "name": "worker-9",
        "hostname": "worker-9.internal",
        "ip_address": "10.0.0.19",
        "capacity": {"cpu_millicores": 4000, "memory_mb": 8192, "pods": 110},
    }
    assert admin_client.post("/api/v1/admin/workers", node, format="json").status_code == 201
    assert admin_client.post("/api/v1/admin/workers/worker-9/cordon").status_code == 200
    assert admin_client.post("/api/v1/admin/workers/worker-9/rotate-token").status_code == 200
    assert _entry("node.create").after["name"] == "worker-9"
    assert (_entry("node.cordon").before["cordoned"], _entry("node.cordon").after["cordoned"]) == (False, True)
    # The node's token never reaches the trail, hashed or not.
    assert "token_hash" not in _entry("node.rotate_token").after


def test_a_refused_operator_call_changes_nothing_and_the_trail_cannot_be_rewritten(admin_client, admin_user):
    response = admin_client.delete(f"/api/v1/admin/users/{admin_user.pk}")
    assert response.status_code == 409
    assert not AuditEntry.objects.filter(action="user.deactivate", outcome="").exists()

    admin_client.patch(f"/api/v1/admin/users/{admin_user.pk}", {"name": "Ops"}, format="json")
    entry = _entry("user.change")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="nothing happened")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
