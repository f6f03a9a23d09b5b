"""Faults around the reconcile loop, with real processes: a Celery worker SIGKILLed in the middle
of a reconcile, and a cluster API server that is gone for longer than the provisioning timeout.

Nothing here patches the platform: the worker is a real ``celery worker`` process, the cluster is
the emulator over HTTP, and time moves with time-machine instead of being waited for.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billing.models import Transaction
from paas.tests.celery_worker import WorkerProcess, private_queue, wait_for
from pods import services, tasks
from pods.emulator import EmulatorServer
from pods.models import InstanceEvent, ServiceInstance
from pods.services.reconcile import Outcome
from subscriptions import tasks as subscription_tasks
from subscriptions.models import Subscription
from subscriptions.tests.factories import buy

from .factories import make_instance

pytestmark = pytest.mark.django_db(transaction=True)

Status = ServiceInstance.Status
WORKLOADS = ("secrets", "persistentvolumeclaims", "services", "deployments", "statefulsets", "ingresses")


def objects_of(cluster, instance) -> dict[tuple[str, str], dict]:
    """The instance's objects in the cluster, by (resource, name)."""
    found = {}
    for resource in WORKLOADS:
        for obj in cluster.objects(resource, instance.namespace):
            if obj["metadata"].get("labels", {}).get("paas/instance-id") == str(instance.pk):
                found[(resource, obj["metadata"]["name"])] = obj
    return found


def status_path(instance) -> list[str]:
    events = InstanceEvent.objects.filter(instance=instance, kind="status").order_by("id")
    return [e.to_status for e in events]


# --- a worker killed mid-reconcile ----------------------------------------------------------------


@pytest.mark.parametrize(
    "landed",
    [False, True],
    ids=["the-write-in-flight-is-lost", "the-write-landed-but-its-answer-is-lost"],
)
def test_a_worker_killed_mid_reconcile_leaves_nothing_half_done(cluster, user, landed):
    # given: the worker's write of the Deployment reaches the API server and hangs there (with
    # ``after``: it is applied first), so the kill lands at a known point of the pass
    hang = cluster.add_fault(verb="patch", resource="deployments", hang=True, after=landed)
    with private_queue() as queue:
        worker = WorkerProcess(queue).start()
        try:
            # the purchase path: the instance is created and its reconcile queued on commit
            instance = make_instance(user, service="ghost")
            wait_for(lambda: hang.hits, what="the worker's reconcile to reach the Deployment")
        finally:
            # when: the worker is SIGKILLed mid-pass (pool included: no cleanup, no ack)
            worker.kill()
    cluster.faults.clear()

    # then: what the dead pass applied is there, nothing was recorded as failed, and its lease
    # keeps anyone from acting on a half-known state until it lapses
    instance.refresh_from_db()
    applied = objects_of(cluster, instance)
    assert {"secrets", "services"} <= {resource for resource, _ in applied}
    assert len([k for k in applied if k[0] == "deployments"]) == (1 if landed else 0)
    assert instance.status == Status.PENDING and instance.lease_until is not None
    assert services.reconcile(instance.pk).outcome == Outcome.BUSY

    # when: the lease lapses and the periodic loop runs again (the task, as beat queues it)
    with time_machine.travel(instance.lease_until + timedelta(seconds=1), tick=False):
        assert tasks.instances_reconcile_due_task() == 1
        cluster.tick()
        assert tasks.instance_reconcile_task(str(instance.pk)) == Outcome.CONVERGED

    # then: the instance converges on one set of objects; what the dead pass applied is kept as it
    # was (same objects, same generated secrets), only the rest is added
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING, instance.status_message
    assert instance.lease_until is None and instance.failures == 0
    assert status_path(instance) == [Status.PROVISIONING, Status.RUNNING]
    after = objects_of(cluster, instance)
    assert {resource for resource, _ in after} == set(WORKLOADS)
    assert len([k for k in after if k[0] == "deployments"]) == 1
    for key, obj in applied.items():
        assert after[key]["metadata"]["uid"] == obj["metadata"]["uid"], key
        if key[0] == "secrets":
            assert after[key]["data"] == obj["data"], key


# --- the cluster API down for longer than the provisioning timeout --------------------------------


@pytest.fixture
def api_server(cluster, settings, tmp_path):
    """The emulated cluster behind an API server of its own, which the test can stop and start
    again on the same address (its clients' kept-alive connections die with it)."""

    class ApiServer:
        def __init__(self):
            self.server = EmulatorServer(cluster).start()
            self.port = self.server.port
            settings.PAAS_EMULATOR_KUBECONFIG = str(self.server.write_kubeconfig(tmp_path / "kubeconfig"))

        def stop(self):
            self.server.stop()

        def start(self):
            self.server = EmulatorServer(cluster, port=self.port).start()

    server = ApiServer()
    yield server
    server.stop()


def ledger_rows() -> list[tuple]:
    return list(Transaction.objects.order_by("id").values_list("id", "type", "status", "amount"))


def test_a_cluster_api_outage_longer_than_the_provision_timeout_fails_and_charges_nothing(
    api_server, cluster, settings, user, other_user, admin_user
):
    settings.PAAS_PROVISION_TIMEOUT = 600
    # given: two running apps, one still provisioning, one stopped
    running = [buy(user), buy(other_user)]
    cluster.tick()
    for subscription in running:
        services.reconcile(subscription.instance_id)
    stopped = buy(admin_user)
    services.instance_stop(instance=stopped.instance)
    services.reconcile(stopped.instance_id)
    cluster.tick()
    services.reconcile(stopped.instance_id)
    provisioning = buy(admin_user)  # applied; its pods are not ready yet
    expected = {
        running[0].instance_id: Status.RUNNING,
        running[1].instance_id: Status.RUNNING,
        stopped.instance_id: Status.STOPPED,
        provisioning.instance_id: Status.PROVISIONING,
    }
    assert dict(ServiceInstance.objects.values_list("id", "status")) == expected
    ledger = ledger_rows()
    subscriptions = dict(Subscription.objects.values_list("id", "status"))

    # when: the API server is gone for 25 minutes (2.5 times the provisioning timeout) while beat
    # keeps running the reconcile loop, the sweep and the billing clock; an owner stops an app
    api_server.stop()
    start = timezone.now()
    for minute in range(0, 26):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            tasks.instances_reconcile_due_task()
            if minute % 5 == 0:
                assert tasks.instances_sweep_task() == 0
            subscription_tasks.billing_clock_tick_task()
            if minute == 10:
                services.instance_stop(instance=ServiceInstance.objects.get(pk=running[1].instance_id))

    # then: nobody's app is FAILED for the platform's outage, and no money moved
    assert dict(ServiceInstance.objects.values_list("id", "status")) == expected
    assert not InstanceEvent.objects.filter(to_status=Status.FAILED).exists()
    waiting = {provisioning.instance_id, running[1].instance_id}
    assert set(ServiceInstance.objects.filter(unreachable_since__isnull=False).values_list("id", flat=True)) == waiting
    assert ledger_rows() == ledger
    assert dict(Subscription.objects.values_list("id", "status")) == subscriptions
    assert not Subscription.objects.filter(downtime_since__isnull=False).exists()

    # when: the API server is back, and the loop goes on
    api_server.start()
    back = start + timedelta(minutes=26)
    for minute in range(0, 6):
        with time_machine.travel(back + timedelta(minutes=minute), tick=False):
            tasks.instances_reconcile_due_task()
            if minute % 5 == 0:
                tasks.instances_sweep_task()
            cluster.tick()
            subscription_tasks.billing_clock_tick_task()

    # then: everything converges on what its owner asked for, still without a charge or a credit
    expected |= {provisioning.instance_id: Status.RUNNING, running[1].instance_id: Status.STOPPED}
    statuses = dict(ServiceInstance.objects.values_list("id", "status"))
    assert statuses == expected, ServiceInstance.objects.values_list("status", "status_message")
    assert not ServiceInstance.objects.filter(unreachable_since__isnull=False).exists()
    assert not InstanceEvent.objects.filter(to_status=Status.FAILED).exists()
    assert ledger_rows() == ledger
    assert dict(Subscription.objects.values_list("id", "status")) == subscriptions
