"""Capacity admission at the edge: nobody pays for an app the cluster has no room for."""

import pytest

from billing.models import Transaction
from billing.selectors import wallet_balance
from pods.tests.factories import seeded_plan
from subscriptions.models import Subscription
from subscriptions.tests.factories import buy, fund
from templates.resources import plan_requests
from workers.exceptions import NoCapacity
from workers.models import WorkerNode
from workers.services import capacity_admit, headroom

pytestmark = pytest.mark.django_db


def node(name="worker-1", *, cpu, memory, status="READY", cordoned=False):
    return WorkerNode.objects.create(
        name=name, status=status, cordoned=cordoned, allocatable_cpu_millicores=cpu, allocatable_memory_mb=memory
    )


@pytest.fixture
def starter():
    plan = seeded_plan("n8n", "starter")
    needs = plan_requests(plan)
    assert (needs.cpu_millicores, needs.memory_mb) == (125, 512)  # 25 % and 50 % of the plan's limits
    return plan


def test_a_plan_that_fits_exactly_is_admitted(starter):
    node(cpu=125, memory=512)
    room = capacity_admit(plan=starter)
    assert (room.free_cpu_millicores, room.free_memory_mb) == (125, 512)


@pytest.mark.parametrize(("cpu", "memory"), [(124, 512), (125, 511)])
def test_one_millicore_or_one_mebibyte_short_is_refused(starter, cpu, memory):
    node(cpu=cpu, memory=memory)
    with pytest.raises(NoCapacity) as refused:
        capacity_admit(plan=starter)
    assert refused.value.extra["requested"] == {"cpu_millicores": 125, "memory_mb": 512}


def test_live_instances_hold_their_room_and_deleted_ones_free_it(starter, user, cluster):
    node(cpu=250, memory=1024)
    first = buy(user)
    capacity_admit(plan=starter)  # room for exactly one more
    second = buy(user)
    with pytest.raises(NoCapacity):
        capacity_admit(plan=starter)
    from pods.services import instance_delete

    instance_delete(instance=second.instance)
    capacity_admit(plan=starter)
    assert first.instance.desired_state == "RUNNING"


@pytest.mark.parametrize("state", [{"cordoned": True}, {"status": "OFFLINE"}, {"status": "NOT_READY"}])
def test_cordoned_and_unready_nodes_take_nothing_new(starter, state):
    node(cpu=10_000, memory=100_000, **state)
    node("worker-2", cpu=100, memory=100)
    with pytest.raises(NoCapacity):
        capacity_admit(plan=starter)


def test_overcommit_lets_requests_exceed_allocatable_by_the_ratio(starter, settings):
    node(cpu=100, memory=400)
    with pytest.raises(NoCapacity):
        capacity_admit(plan=starter)
    settings.PAAS_OVERCOMMIT_RATIO = 1.3  # 130m, 520 MiB
    capacity_admit(plan=starter)
    assert headroom().allocatable_cpu_millicores == 130


def test_a_purchase_with_no_room_is_409_and_charges_nothing(user_client, user, cluster, starter):
    node(cpu=100, memory=100)
    fund(user, "75000.00")
    response = user_client.post("/api/v1/subscriptions", {"service": "n8n", "plan": "starter"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_capacity"
    assert response.json()["error"]["details"]["requested"] == {"cpu_millicores": 125, "memory_mb": 512}
    assert not Subscription.objects.exists() and not Transaction.objects.filter(type="CHARGE").exists()
    assert wallet_balance(user=user) == 75000


def test_an_upgrade_with_no_room_is_409_and_changes_nothing(user_client, user, cluster, starter):
    node(cpu=200, memory=1024)
    subscription = buy(user)
    fund(user, "150000.00")
    response = user_client.post(f"/api/v1/subscriptions/{subscription.pk}/change-plan", {"plan": "pro"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_capacity"
    subscription.refresh_from_db()
    assert subscription.plan == starter
    # A plan using the room the current one frees fits: the instance's own room is not counted twice.
    WorkerNode.objects.update(allocatable_cpu_millicores=250, allocatable_memory_mb=1024)
    assert plan_requests(seeded_plan("n8n", "pro")).cpu_millicores == 250
    assert (
        user_client.post(
            f"/api/v1/subscriptions/{subscription.pk}/change-plan", {"plan": "pro"}, format="json"
        ).status_code
        == 200
    )


def test_a_fresh_installation_asks_the_cluster_for_its_nodes(cluster, starter):
    assert not WorkerNode.objects.exists()
    capacity_admit(plan=starter)
    assert WorkerNode.objects.filter(source="cluster").count() == 3
