"""Silent nodes, the cluster's Node API, and where apps run."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from notifications.models import EmailMessage
from pods import services as pods
from pods.tests.factories import make_instance
from workers.models import NodeEvent, WorkerNode
from workers.services import node_heartbeat, node_register, nodes_mark_offline, nodes_sync

JOIN = "test-join-token-0123456789"


def registered(name="worker-1"):
    node, _, _ = node_register(
        join_token=JOIN,
        name=name,
        hostname=name,
        ip_address="10.0.0.1",
        capacity={"cpu_millicores": 1000, "memory_mb": 1024, "pods": 10},
        labels={},
        kubelet_version="",
    )
    return node


@pytest.mark.django_db(transaction=True)
def test_a_silent_node_goes_offline_exactly_once_under_two_racing_beats(settings):
    AdminFactory()
    nodes = [registered(f"worker-{n}") for n in range(6)]
    late = timezone.now() + timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT + 1)
    marked, barrier = [], threading.Barrier(2)

    def beat():
        try:
            barrier.wait()
            marked.extend(n.name for n in nodes_mark_offline())
        finally:
            connection.close()

    with time_machine.travel(late, tick=False):
        threads = [threading.Thread(target=beat) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(marked) == sorted(n.name for n in nodes)  # each once, between the two
    assert set(WorkerNode.objects.values_list("status", flat=True)) == {"OFFLINE"}
    assert NodeEvent.objects.filter(reason="HeartbeatsStopped").count() == 6
    assert EmailMessage.objects.filter(template="node-offline").count() == 6  # one alert per node
    with time_machine.travel(late + timedelta(minutes=5), tick=False):
        assert nodes_mark_offline() == []


@pytest.mark.django_db
def test_a_node_reporting_in_time_stays_ready(settings):
    node = registered()
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT - 1), tick=False):
        assert nodes_mark_offline() == []
    node.refresh_from_db()
    assert node.status == "READY"


@pytest.mark.django_db
def test_nodes_are_synced_from_the_cluster_and_follow_its_readiness(cluster):
    report = nodes_sync()
    assert sorted(report.created) == ["emulator-node-1", "emulator-node-2", "emulator-node-3"]
    node = WorkerNode.objects.get(name="emulator-node-1")
    assert node.source == "cluster" and node.status == "READY"
    assert (node.cpu_millicores, node.allocatable_cpu_millicores) == (4000, 3900)
    assert node.memory_mb == 8192 and node.kubelet_version.startswith("v1.33")

    cluster.set_node_ready("emulator-node-1", False)
    cluster.tick()
    assert nodes_sync().changed == ["emulator-node-1"]
    assert WorkerNode.objects.get(name="emulator-node-1").status == "NOT_READY"
    assert NodeEvent.objects.filter(node__name="emulator-node-1", reason="NodeNotReady").exists()


@pytest.mark.django_db
def test_the_sync_records_which_node_runs_each_app(cluster, user):
    instance = make_instance(user)
    pods.reconcile(instance.pk)
    cluster.tick()
    from pods.models import ServiceInstance

    ServiceInstance.objects.filter(pk=instance.pk).update(node="")
    assert nodes_sync().placements == 1
    instance.refresh_from_db()
    assert instance.node.startswith("emulator-node-")


@pytest.mark.django_db
def test_apps_on_an_offline_node_are_shown_at_risk(cluster, user, admin_client, settings):
    instance = make_instance(user)
    pods.reconcile(instance.pk)
    cluster.tick()
    pods.reconcile(instance.pk)
    instance.refresh_from_db()
    node = registered(instance.node)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT + 1), tick=False):
        nodes_mark_offline()
    body = admin_client.get(f"/api/v1/admin/pods/{instance.pk}").json()
    assert body["node_status"] == "OFFLINE" and body["at_risk"] is True
    assert admin_client.get(f"/api/v1/admin/workers/{node.name}").json()["instances_count"] == 1


@pytest.mark.django_db
def test_a_node_the_cluster_calls_not_ready_stays_so_while_its_agent_reports(cluster, settings):
    settings.WORKER_JOIN_TOKEN = JOIN
    nodes_sync()
    _, token, _ = node_register(
        join_token=JOIN,
        name="emulator-node-1",
        hostname="emulator-node-1",
        ip_address="10.0.0.1",
        capacity={"cpu_millicores": 4000, "memory_mb": 8192, "pods": 110},
        labels={},
        kubelet_version="v1.33.0",
    )
    cluster.set_node_ready("emulator-node-1", False)
    cluster.tick()
    nodes_sync()
    conditions = WorkerNode.objects.get(name="emulator-node-1").conditions
    events = NodeEvent.objects.count()

    for _ in range(3):  # the agent only knows it is alive: it says READY, with no conditions
        node_heartbeat(token=token, status="READY", cpu_percent=5.0, memory_percent=10.0, pods_running=2)
    node = WorkerNode.objects.get(name="emulator-node-1")
    assert node.status == "NOT_READY" and node.conditions == conditions
    assert node.pods_running == 2 and NodeEvent.objects.count() == events  # usage kept, nothing flipped

    node.status = "OFFLINE"
    node.save(update_fields=["status"])
    node_heartbeat(token=token, status="READY", cpu_percent=5.0, memory_percent=10.0, pods_running=2)
    assert WorkerNode.objects.get(name="emulator-node-1").status == "READY"  # alive again: back
