"""The periodic sweep: reads only, one list per kind, and a reconcile queued only where needed."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.tests.factories import UserFactory
from pods import services
from pods.models import ClusterOrphan, ServiceInstance, UsageSample
from pods.services.cluster import get_cluster

from .factories import make_instance, stray_secret

pytestmark = pytest.mark.django_db


def _running(cluster, owner, **kwargs):
    instance = make_instance(owner, **kwargs)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    return instance


def test_a_cluster_in_line_costs_one_list_per_kind_whatever_the_number_of_instances(cluster, settings):
    settings.PAAS_APPS_DOMAIN = "apps.example.com"
    for _ in range(3):
        _running(cluster, UserFactory(), service="ghost")
    cluster.requests.clear()

    report = services.sweep()

    assert (report.instances, report.in_sync, report.queued) == (3, 3, [])
    assert cluster.requests.writes() == []
    lists = [r for r in cluster.requests.records() if r.verb == "list"]
    # Namespaces, ten kinds, and one metrics read: never one request per instance.
    assert len(cluster.requests.records()) == len(lists) == 12
    assert all(not r.namespace for r in lists)
    assert ServiceInstance.objects.filter(last_synced_at__isnull=True).count() == 0


def test_the_sweep_queues_exactly_the_instances_that_drifted(cluster, user, django_capture_on_commit_callbacks):
    kept, broken = _running(cluster, user), _running(cluster, UserFactory())
    service = next(s for s in cluster.objects("services", broken.namespace) if s["metadata"]["name"].endswith("-web"))
    get_cluster().delete("Service", service["metadata"]["name"], broken.namespace)

    with django_capture_on_commit_callbacks(execute=True):
        report = services.sweep()

    assert report.queued == [broken.pk]
    assert cluster.get("services", broken.namespace, service["metadata"]["name"]) is not None  # repaired by the task
    assert kept.pk not in report.queued


def test_orphans_are_reported_and_removed_only_when_allowed(cluster, user, settings):
    instance = _running(cluster, user)
    label = str(uuid.uuid4())
    stray_secret(instance.namespace, instance_label=label)

    settings.PAAS_DELETE_ORPHANS = False
    report = services.sweep()
    orphan = ClusterOrphan.objects.get()
    assert (orphan.kind, orphan.name, orphan.instance_label, orphan.removed_at) == (
        "Secret",
        "left-behind",
        label,
        None,
    )
    assert [o["metadata"]["name"] for o in report.orphans] == ["left-behind"]
    assert cluster.get("secrets", instance.namespace, "left-behind") is not None

    settings.PAAS_DELETE_ORPHANS = True
    # Not at once: an orphan must have been one for a while (a restored backup, a racing purchase).
    assert services.sweep().orphans_removed == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        assert services.sweep().orphans_removed == 1
    assert cluster.get("secrets", instance.namespace, "left-behind") is None
    assert ClusterOrphan.objects.get().removed_at is not None


def test_an_orphan_namespace_is_checked_again_right_before_it_is_removed(cluster, user, settings):
    instance = _running(cluster, user)
    ServiceInstance.objects.filter(pk=instance.pk).update(purged_at=timezone.now())
    settings.PAAS_DELETE_ORPHANS = True
    services.sweep()
    # The customer buys again before the grace ends: the namespace is theirs again.
    ServiceInstance.objects.filter(pk=instance.pk).update(purged_at=None)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        report = services.sweep()
    assert report.orphans_removed == 0
    assert cluster.get("namespaces", "", instance.namespace)["status"]["phase"] == "Active"


def test_one_instance_that_cannot_be_compared_does_not_stop_the_sweep(cluster, user):
    broken, fine = _running(cluster, user), _running(cluster, UserFactory())
    ServiceInstance.objects.filter(pk=broken.pk).update(config={"timezone": "Not/AZone"})
    get_cluster().delete("Ingress", fine.host.split(".")[0], fine.namespace)

    report = services.sweep(dry_run=True)

    assert set(report.queued) == {broken.pk, fine.pk}


def test_a_namespace_no_instance_uses_is_an_orphan(cluster, user):
    instance = _running(cluster, user)
    ServiceInstance.objects.filter(pk=instance.pk).update(purged_at=timezone.now())
    orphans = {(o["kind"], o["metadata"]["name"]) for o in services.sweep(dry_run=True).orphans}
    assert orphans == {("Namespace", instance.namespace)}


def test_usage_is_sampled_for_running_instances_and_shown(cluster, user, admin_client):
    instance = _running(cluster, user)
    make_instance(UserFactory())  # not running: no sample
    services.sweep()
    sample = UsageSample.objects.get()
    assert sample.instance_id == instance.pk and sample.cpu_millicores > 0 and sample.memory_mb > 0
    usage = admin_client.get(f"/api/v1/admin/pods/{instance.pk}").json()["usage"]
    assert usage["cpu_millicores"] == sample.cpu_millicores and usage["memory_mb"] == sample.memory_mb
    assert parse_datetime(usage["sampled_at"]) == sample.sampled_at
    # The next sample replaces the one shown.
    later = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        services.sweep()
    latest = UsageSample.objects.order_by("-sampled_at").first()
    assert latest.sampled_at == later and UsageSample.objects.count() == 2
    usage = admin_client.get(f"/api/v1/admin/pods/{instance.pk}").json()["usage"]
    assert parse_datetime(usage["sampled_at"]) == later


def test_old_usage_samples_are_dropped(cluster, user, settings):
    instance = _running(cluster, user)
    services.sweep()
    with time_machine.travel(timezone.now() + timedelta(days=settings.PAAS_USAGE_RETENTION_DAYS + 1), tick=False):
        services.purge_due()
    assert not UsageSample.objects.filter(instance=instance).exists()


def test_reconcile_due_queues_only_what_waits(cluster, user, django_capture_on_commit_callbacks):
    waiting = make_instance(user)
    services.reconcile(waiting.pk)  # provisioning: looked at again in a few seconds
    settled = _running(cluster, UserFactory())
    cluster.tick()
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.reconcile_due() == 1
    waiting.refresh_from_db()
    assert waiting.status == "RUNNING" and settled.pk != waiting.pk


def test_an_unreachable_cluster_skips_the_sweep_and_changes_nothing(cluster, user, settings, tmp_path):
    from pods.tasks import instances_sweep_task

    instance = _running(cluster, user)
    settings.PAAS_EMULATOR_KUBECONFIG = str(tmp_path / "gone")
    assert instances_sweep_task() == 0
    instance.refresh_from_db()
    assert instance.status == "RUNNING"


def test_the_sweep_reads_only_and_costs_the_same_requests_for_more_instances_and_namespaces(cluster):
    def sweep_in_line() -> tuple[services.SweepReport, list]:
        cluster.requests.clear()
        report = services.sweep()
        return report, cluster.requests.records()

    # given: two customers with two apps each (two namespaces, four instances)
    for _ in range(2):
        owner = UserFactory()
        _running(cluster, owner)
        _running(cluster, owner, service="ghost")
    few, few_requests = sweep_in_line()

    # when: three more customers, three apps each, and the sweep runs again
    for _ in range(3):
        owner = UserFactory()
        for service in ("n8n", "ghost", "wordpress"):
            _running(cluster, owner, service=service)
    many, many_requests = sweep_in_line()

    # then: every instance is found in line with reads only, and the reads did not grow
    assert (few.in_sync, few.queued, many.in_sync, many.queued) == (4, [], 13, [])
    for requests in (few_requests, many_requests):
        assert {r.verb for r in requests} == {"list"}
        assert not [r for r in requests if r.is_write or r.namespace]
    assert len(many_requests) == len(few_requests)
