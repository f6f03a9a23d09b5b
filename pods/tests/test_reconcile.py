"""The reconcile loop against the emulator, through the official client over HTTP: never by
patching the client or the driver. Faults are injected at the emulator, as a real API server
would fail."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from catalog.tests.factories import PlanFactory
from notifications.models import EmailMessage
from pods import services
from pods.models import InstanceEvent, ServiceInstance
from pods.services.cluster import get_cluster
from pods.services.reconcile import Outcome

from .factories import make_instance, seeded_plan

pytestmark = pytest.mark.django_db

Status = ServiceInstance.Status


def running(cluster, owner, **kwargs) -> ServiceInstance:
    instance = make_instance(owner, **kwargs)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING, instance.status_message
    return instance


def kinds_of(cluster, instance) -> set[tuple[str, str]]:
    found = set()
    for resource in ("secrets", "persistentvolumeclaims", "services", "deployments", "statefulsets", "ingresses"):
        for obj in cluster.objects(resource, instance.namespace):
            if obj["metadata"].get("labels", {}).get("paas/instance-id") == str(instance.pk):
                found.add((resource, obj["metadata"]["name"]))
    return found


def statuses(instance) -> list[tuple[str, str]]:
    events = InstanceEvent.objects.filter(instance=instance, kind="status").order_by("id")
    return [(e.from_status, e.to_status) for e in events]


# --- provisioning ----------------------------------------------------------------------------


def test_provision_from_nothing(cluster, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        instance = make_instance(user, service="ghost", name="My blog")
    assert instance.status == Status.PENDING  # the on-commit reconcile ran eagerly: look again
    instance.refresh_from_db()
    assert instance.status == Status.PROVISIONING

    namespace = cluster.get("namespaces", "", instance.namespace)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {r for r, _ in kinds_of(cluster, instance)} == {
        "secrets",
        "persistentvolumeclaims",
        "services",
        "deployments",
        "statefulsets",
        "ingresses",
    }
    assert cluster.objects("resourcequotas", instance.namespace)

    cluster.tick()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert result.outcome == Outcome.CONVERGED
    assert instance.status == Status.RUNNING
    assert instance.first_ready_at is not None and instance.node.startswith("emulator-node-")
    assert instance.url.startswith("https://my-blog-") or instance.url.startswith("http://my-blog-")
    assert statuses(instance) == [("PENDING", "PROVISIONING"), ("PROVISIONING", "RUNNING")]
    ready_mail = EmailMessage.objects.get(user=user, template="service-ready")
    assert ready_mail.context["instance"]["url"] == instance.url


def test_a_converged_instance_costs_reads_only(cluster, user):
    instance = running(cluster, user)
    cluster.requests.clear()

    result = services.reconcile(instance.pk)

    assert result.outcome == Outcome.CONVERGED and result.changes == ()
    assert cluster.requests.writes() == []
    reads = cluster.requests.records()
    # The namespace, then one list per kind: never one request per object.
    assert len(reads) == 11 and {r.verb for r in reads} == {"get", "list"}


def test_secrets_are_sealed_in_the_database_and_never_rewritten(cluster, user):
    instance = running(cluster, user)
    secret = next(s for s in cluster.objects("secrets", instance.namespace) if s["metadata"]["name"].endswith("-app"))
    key = secret["data"]["n8n-encryption-key"]
    assert key not in instance.secrets_sealed  # sealed, not merely base64
    cluster.requests.clear()
    services.reconcile(instance.pk)
    assert not [w for w in cluster.requests.writes() if w.resource == "secrets"]
    assert cluster.get("secrets", instance.namespace, secret["metadata"]["name"])["data"]["n8n-encryption-key"] == key


def test_a_pass_cut_off_half_way_is_completed_by_the_next(cluster, user):
    instance = make_instance(user)
    # The connection dies when the Deployment is written: Secrets, volume and Services exist, it does not.
    cluster.add_fault(verb="patch", resource="deployments", drop=True, times=1)

    assert services.reconcile(instance.pk).outcome == Outcome.UNREACHABLE
    instance.refresh_from_db()
    made = {r for r, _ in kinds_of(cluster, instance)}
    assert "secrets" in made and "deployments" not in made
    assert instance.status == Status.PENDING and instance.next_reconcile_at is not None

    result = services.reconcile(instance.pk)
    assert [c.kind for c in result.changes] == ["Deployment", "Ingress"]
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING


def test_objects_deleted_out_of_band_are_recreated(cluster, user):
    instance = running(cluster, user)
    driver = get_cluster()
    deployment = next(name for r, name in kinds_of(cluster, instance) if r == "deployments")
    driver.delete("Deployment", deployment, instance.namespace)
    driver.delete("ResourceQuota", "paas-quota", instance.namespace)

    result = services.reconcile(instance.pk)

    assert {(c.kind, c.why) for c in result.changes} == {("Deployment", "Recreated"), ("ResourceQuota", "Recreated")}
    assert cluster.get("deployments", instance.namespace, deployment) is not None
    repaired = InstanceEvent.objects.filter(instance=instance, reason="DriftRepaired")
    assert repaired.count() == 2
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING


def test_an_object_edited_out_of_band_is_restored(cluster, user):
    instance = running(cluster, user)
    deployment = next(name for r, name in kinds_of(cluster, instance) if r == "deployments")
    apps = get_cluster()._api("AppsV1Api")
    apps.patch_namespaced_deployment(deployment, instance.namespace, {"spec": {"replicas": 3}}, field_manager="test")

    result = services.reconcile(instance.pk)

    assert [(c.kind, c.why) for c in result.changes] == [("Deployment", "Restored")]
    assert cluster.get("deployments", instance.namespace, deployment)["spec"]["replicas"] == 1


# --- failures --------------------------------------------------------------------------------


def test_server_errors_are_retried_then_the_instance_fails_with_the_message(cluster, user, settings):
    settings.PAAS_RECONCILE_MAX_ATTEMPTS = 3
    instance = make_instance(user)
    cluster.add_fault(verb="patch", resource="deployments", status=500, message="etcdserver: request timed out")

    outcomes = [services.reconcile(instance.pk).outcome for _ in range(3)]

    instance.refresh_from_db()
    assert outcomes == [Outcome.REFUSED] * 3
    assert instance.status == Status.FAILED
    # Operators read the API's words; the owner reads a sentence meant for them.
    assert "etcdserver: request timed out" in instance.last_error
    assert "etcdserver" not in instance.status_message and "could not apply" in instance.status_message
    assert instance.failures == 3 and instance.next_reconcile_at is not None
    # One error event for the streak, not one per attempt.
    assert InstanceEvent.objects.filter(instance=instance, kind="error").count() == 1
    assert statuses(instance) == [("PENDING", "FAILED")]

    cluster.faults.clear()
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING and instance.failures == 0


def test_timeouts_leave_a_running_app_stale_never_failed(cluster, user, settings, admin_client):
    settings.PAAS_RECONCILE_MAX_ATTEMPTS = 2
    instance = running(cluster, user)
    settings.PAAS_CLUSTER_TIMEOUT = (1.0, 0.3)
    cluster.add_fault(verb="list", resource="pods", hang=True)

    outcomes = {services.reconcile(instance.pk).outcome for _ in range(4)}

    instance.refresh_from_db()
    assert outcomes == {Outcome.UNREACHABLE}
    assert instance.status == Status.RUNNING and instance.unreachable_since is not None
    body = admin_client.get(f"/api/v1/admin/pods/{instance.pk}").json()
    assert body["status"] == "RUNNING" and body["stale"] is True and body["live"]["reachable"] is False
    assert InstanceEvent.objects.filter(instance=instance, reason="ClusterUnreachable").count() == 1

    cluster.faults.clear()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING and instance.unreachable_since is None
    assert InstanceEvent.objects.filter(instance=instance, reason="ClusterReachable").exists()


def test_an_unreachable_api_does_not_eat_the_provisioning_time(cluster, user, settings, tmp_path):
    instance = make_instance(user)
    services.reconcile(instance.pk)  # applied, waiting for the pods
    real_kubeconfig = settings.PAAS_EMULATOR_KUBECONFIG
    dead = tmp_path / "kubeconfig"
    text = Path(real_kubeconfig).read_text()
    dead.write_text(text.replace(f"127.0.0.1:{cluster_port(text)}", "127.0.0.1:1"))
    settings.PAAS_EMULATOR_KUBECONFIG = str(dead)

    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert services.reconcile(instance.pk).outcome == Outcome.UNREACHABLE
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert services.reconcile(instance.pk).outcome == Outcome.UNREACHABLE
        instance.refresh_from_db()
        assert instance.status == Status.PROVISIONING
        settings.PAAS_EMULATOR_KUBECONFIG = real_kubeconfig
        # Back after two hours, far past the provisioning timeout: the outage does not count.
        services.reconcile(instance.pk)
        instance.refresh_from_db()
        assert instance.status == Status.PROVISIONING
        cluster.tick()
        services.reconcile(instance.pk)
        instance.refresh_from_db()
        assert instance.status == Status.RUNNING


def cluster_port(kubeconfig_text: str) -> str:
    return kubeconfig_text.split("http://127.0.0.1:")[1].split()[0].strip("'\"/")


def _past_the_timeout(instance, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PAAS_PROVISION_TIMEOUT + 5), tick=False):
        services.reconcile(instance.pk)
    instance.refresh_from_db()


def test_an_image_that_cannot_be_pulled_ends_failed_with_the_reason(
    cluster, user, settings, django_capture_on_commit_callbacks
):
    cluster.set_image_patterns(pull_fail=r"n8nio/n8n")
    instance = make_instance(user)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.PROVISIONING and "ImagePullBackOff" in instance.status_message

    with django_capture_on_commit_callbacks(execute=True):
        _past_the_timeout(instance, settings)

    assert instance.status == Status.FAILED
    assert "ImagePullBackOff" in instance.status_message
    assert InstanceEvent.objects.get(instance=instance, to_status="FAILED").reason == "ImagePullBackOff"
    assert EmailMessage.objects.filter(user=user, template="instance-failed").exists()


def test_a_crash_looping_app_ends_failed_with_the_reason(cluster, user, settings):
    cluster.set_image_patterns(crash=r"n8nio/n8n")
    instance = make_instance(user)
    services.reconcile(instance.pk)
    for _ in range(3):
        cluster.tick()
    _past_the_timeout(instance, settings)
    assert instance.status == Status.FAILED and "CrashLoopBackOff" in instance.status_message


def test_a_quota_refusal_ends_failed_with_the_reason(cluster, user, settings):
    instance = make_instance(user)
    services.reconcile(instance.pk)
    # The cluster's own administrators cap the namespace below what the plan needs.
    core = get_cluster()._api("CoreV1Api")
    core.create_namespaced_resource_quota(
        instance.namespace,
        {"metadata": {"name": "cluster-admin-cap"}, "spec": {"hard": {"requests.cpu": "10m"}}},
        field_manager="test",
    )
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert "QuotaExceeded" in instance.status_message

    _past_the_timeout(instance, settings)

    assert instance.status == Status.FAILED
    assert "exceeded quota" in instance.status_message
    assert InstanceEvent.objects.get(instance=instance, to_status="FAILED").reason == "QuotaExceeded"


def test_an_app_no_node_has_room_for_ends_unschedulable(cluster, user, settings):
    # 64 cores of limits request 16 cores: more than any 4-core node has.
    plan = PlanFactory(service=seeded_plan().service, slug="huge", cpu_millicores=64_000, memory_mb=4096)
    instance = services.instance_create(owner=user, plan=plan)
    services.reconcile(instance.pk)
    cluster.tick()
    _past_the_timeout(instance, settings)
    assert instance.status == Status.FAILED
    assert "Unschedulable" in instance.status_message and "Insufficient cpu" in instance.status_message


# --- controls ---------------------------------------------------------------------------------


def test_stop_keeps_the_data_and_start_brings_the_same_volume_back(cluster, user, django_capture_on_commit_callbacks):
    instance = running(cluster, user)
    claims = {
        p["metadata"]["name"]: p["metadata"]["uid"]
        for p in cluster.objects("persistentvolumeclaims", instance.namespace)
    }

    services.instance_stop(instance=instance, actor=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.reconcile(instance.pk)
        cluster.tick()
        services.reconcile(instance.pk)
    instance.refresh_from_db()

    assert instance.status == Status.STOPPED
    deployment = cluster.objects("deployments", instance.namespace)[0]
    assert deployment["spec"]["replicas"] == 0 and not cluster.objects("pods", instance.namespace)
    ingress = cluster.objects("ingresses", instance.namespace)[0]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    assert backend.endswith("-paused")
    assert cluster.get("services", instance.namespace, backend)["spec"]["type"] == "ExternalName"
    assert statuses(instance)[-1] == ("RUNNING", "STOPPED")

    services.instance_start(instance=instance, actor=user)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING
    assert {
        p["metadata"]["name"]: p["metadata"]["uid"]
        for p in cluster.objects("persistentvolumeclaims", instance.namespace)
    } == claims


def test_restart_replaces_the_pods_once(cluster, user):
    instance = running(cluster, user)
    before = {p["metadata"]["name"] for p in cluster.objects("pods", instance.namespace)}

    services.instance_restart(instance=instance, actor=user)
    services.reconcile(instance.pk)
    cluster.tick()
    cluster.tick()
    cluster.requests.clear()
    services.reconcile(instance.pk)
    instance.refresh_from_db()

    assert instance.status == Status.RUNNING
    after = {p["metadata"]["name"] for p in cluster.objects("pods", instance.namespace)}
    assert after and not (after & before)
    assert cluster.requests.writes() == []  # the same request is not made twice


def test_delete_removes_workloads_at_once_and_keeps_data_for_the_window(cluster, user, settings):
    instance = running(cluster, user, service="wordpress")
    services.instance_delete(instance=instance, actor=user)

    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.DELETING
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()

    assert instance.status == Status.DELETED
    left = {r for r, _ in kinds_of(cluster, instance)}
    assert left == {"secrets", "persistentvolumeclaims"}
    # The app's claim and the database's (made by its StatefulSet) are both kept.
    assert len([n for r, n in kinds_of(cluster, instance) if r == "persistentvolumeclaims"]) == 2
    assert instance.purge_after == instance.deleted_at + timedelta(hours=settings.PAAS_DELETE_RETENTION_HOURS)


def test_undo_within_the_window_restores_the_app_with_its_data(cluster, user):
    instance = running(cluster, user, service="ghost")
    claims = {
        p["metadata"]["name"]: p["metadata"]["uid"]
        for p in cluster.objects("persistentvolumeclaims", instance.namespace)
    }
    services.instance_delete(instance=instance, actor=user)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)

    services.instance_restore(instance=instance, actor=user)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()

    assert instance.status == Status.RUNNING
    assert {
        p["metadata"]["name"]: p["metadata"]["uid"]
        for p in cluster.objects("persistentvolumeclaims", instance.namespace)
    } == claims


def test_after_the_window_the_data_is_purged_and_undo_refused(cluster, user):
    from pods.exceptions import RetentionExpired

    instance = running(cluster, user)
    services.instance_delete(instance=instance, actor=user)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()

    with time_machine.travel(instance.purge_after + timedelta(minutes=1), tick=False):
        assert services.purge_due() == 1
        with pytest.raises(RetentionExpired):
            services.instance_restore(instance=instance, actor=user)
    instance.refresh_from_db()
    assert instance.purged_at is not None and instance.secrets_sealed == ""
    assert not kinds_of(cluster, instance)


def test_a_customers_instances_share_a_namespace_which_goes_with_the_last(cluster, user):
    first = running(cluster, user, service="n8n")
    second = running(cluster, user, service="ghost")
    assert first.namespace == second.namespace
    quota = cluster.get("resourcequotas", first.namespace, "paas-quota")
    assert quota["spec"]["hard"]["pods"] == "4"  # n8n 1, ghost 2, and the certificate solver

    for instance in (first, second):
        services.instance_delete(instance=instance, actor=user)
        services.reconcile(instance.pk)
        cluster.tick()
        services.reconcile(instance.pk)
        instance.refresh_from_db()

    with time_machine.travel(first.purge_after + timedelta(minutes=1), tick=False):
        services.purge_instance(ServiceInstance.objects.get(pk=first.pk))
        assert cluster.get("namespaces", "", first.namespace)["status"]["phase"] == "Active"
        services.purge_instance(ServiceInstance.objects.get(pk=second.pk))
    assert cluster.get("namespaces", "", first.namespace)["status"]["phase"] == "Terminating"
    cluster.tick()
    assert cluster.get("namespaces", "", first.namespace) is None


def test_a_plan_change_resizes_the_app_and_its_quota(cluster, user):
    instance = running(cluster, user)
    pro = seeded_plan("n8n", "pro")
    services.instance_change_plan(instance=instance, plan=pro, actor=user)

    result = services.reconcile(instance.pk)

    kinds = {c.kind for c in result.changes}
    assert {"ResourceQuota", "Deployment", "PersistentVolumeClaim"} <= kinds
    deployment = cluster.objects("deployments", instance.namespace)[0]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] in ("1000m", "1")
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING


# --- concurrency ------------------------------------------------------------------------------


def test_a_reconcile_in_progress_makes_the_next_one_wait_its_turn(cluster, user):
    from pods.services.lease import lease_claim, lease_release

    instance = make_instance(user)
    token = lease_claim(instance.pk)
    assert services.reconcile(instance.pk).outcome == Outcome.BUSY
    assert not cluster.requests.writes()
    lease_release(instance.pk, token)
    assert services.reconcile(instance.pk).outcome == Outcome.CONVERGING


@pytest.mark.django_db(transaction=True)
def test_concurrent_reconciles_apply_once(cluster, user):
    instance = make_instance(user)
    outcomes = []

    def work():
        try:
            outcomes.append(services.reconcile(instance.pk).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count(Outcome.CONVERGING) >= 1
    assert set(outcomes) <= {Outcome.CONVERGING, Outcome.BUSY, Outcome.CONVERGED}
    deployment_writes = [w for w in cluster.requests.writes() if w.resource == "deployments"]
    assert len(deployment_writes) == 1


# --- what a real cluster does that must not fail an app ------------------------------------------


def test_an_outage_then_one_refusal_does_not_count_the_outage_against_provisioning(cluster, user, settings):
    instance = make_instance(user)
    services.reconcile(instance.pk)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        cluster.add_fault(verb="list", resource="pods", status=503)
        assert services.reconcile(instance.pk).outcome == Outcome.UNREACHABLE
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        cluster.faults.clear()
        cluster.add_fault(verb="patch", resource="ingresses", status=500, times=1)
        ServiceInstance.objects.filter(pk=instance.pk).update(generation=2)  # something to write
        get_cluster().delete("Ingress", instance.host.split(".")[0], instance.namespace)
        assert services.reconcile(instance.pk).outcome == Outcome.REFUSED
        cluster.tick()
        services.reconcile(instance.pk)
        instance.refresh_from_db()
        assert instance.status == Status.RUNNING, instance.status_message


@pytest.mark.parametrize("status", [401, 403, 500])
def test_reads_that_fail_never_fail_a_running_app(cluster, user, settings, status):
    settings.PAAS_RECONCILE_MAX_ATTEMPTS = 2
    instance = running(cluster, user)
    cluster.add_fault(verb="list", resource="deployments", status=status)
    outcomes = {services.reconcile(instance.pk).outcome for _ in range(4)}
    instance.refresh_from_db()
    assert outcomes == {Outcome.UNREACHABLE}
    assert instance.status == Status.RUNNING and instance.unreachable_since is not None


def test_a_downgrade_keeps_the_quota_above_the_volumes_it_cannot_shrink(cluster, user):
    instance = running(cluster, user)
    pro, starter = seeded_plan("n8n", "pro"), seeded_plan("n8n", "starter")
    for plan in (pro, starter):
        services.instance_change_plan(instance=instance, plan=plan)
        services.reconcile(instance.pk)
        cluster.tick()
        services.reconcile(instance.pk)
    quota = cluster.get("resourcequotas", instance.namespace, "paas-quota")
    assert quota["spec"]["hard"]["requests.storage"] == f"{pro.storage_gb}Gi"
    # And the namespace still takes the customer's next app.
    second = make_instance(user)
    services.reconcile(second.pk)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(second.pk)
    second.refresh_from_db()
    assert second.status == Status.RUNNING, second.status_message


def test_a_volume_the_cluster_will_not_grow_is_asked_once(cluster, user):
    instance = running(cluster, user)
    cluster.requests.clear()
    cluster.add_fault(
        verb="patch",
        resource="persistentvolumeclaims",
        status=403,
        message="only dynamically provisioned pvc can be resized and the storageclass must support resize",
    )
    services.instance_change_plan(instance=instance, plan=seeded_plan("n8n", "pro"))
    for _ in range(4):
        services.reconcile(instance.pk)
        cluster.tick()
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING
    assert InstanceEvent.objects.filter(instance=instance, reason="VolumeNotExpanded").count() == 1
    assert len([r for r in cluster.requests.writes() if r.resource == "persistentvolumeclaims"]) == 1


@pytest.mark.parametrize(
    ("service", "suffix", "key"), [("ghost", "-db", "db-root-password"), ("n8n", "-app", "n8n-encryption-key")]
)
def test_a_key_the_blueprint_gains_is_made_once_and_added_to_the_live_secret(cluster, user, service, suffix, key):
    import base64
    import json

    from paas import crypto
    from pods.services.desired import SECRETS_PURPOSE, secrets_seal

    instance = running(cluster, user, service=service)
    name = next(n for r, n in kinds_of(cluster, instance) if r == "secrets" and n.endswith(suffix))
    live = cluster.get("secrets", instance.namespace, name)
    kept = {k: v for k, v in live["data"].items() if k != key}
    # As if the blueprint had gained ``key`` after this instance was made: neither copy has it.
    stored = json.loads(crypto.unseal(instance.secrets_sealed, purpose=SECRETS_PURPOSE))
    ServiceInstance.objects.filter(pk=instance.pk).update(
        secrets_sealed=secrets_seal({k: v for k, v in stored.items() if k != key})
    )
    core = get_cluster()._api("CoreV1Api")
    core.delete_namespaced_secret(name, instance.namespace)
    body = {"metadata": {"name": name, "labels": live["metadata"]["labels"]}, "data": kept}
    if live.get("immutable"):
        body["immutable"] = True  # n8n's key Secret: the platform must make it again to add a key
    core.create_namespaced_secret(instance.namespace, body, field_manager="test")

    services.reconcile(instance.pk)
    services.reconcile(instance.pk)

    instance.refresh_from_db()
    made = json.loads(crypto.unseal(instance.secrets_sealed, purpose=SECRETS_PURPOSE))[key]
    now_live = cluster.get("secrets", instance.namespace, name)["data"]
    assert base64.b64decode(now_live[key]).decode() == made  # generated once, stored, applied
    assert {k: v for k, v in now_live.items() if k != key} == kept  # what it held is untouched


def test_a_request_during_a_pass_is_not_lost(cluster, user):
    from pods.services.lease import lease_claim

    instance = running(cluster, user)
    lease_claim(instance.pk)  # a pass is running elsewhere
    services.instance_stop(instance=instance)
    assert services.reconcile(instance.pk).outcome == Outcome.BUSY
    instance.refresh_from_db()
    assert instance.next_reconcile_at is not None and instance.next_reconcile_at <= timezone.now()


def test_a_pass_that_lost_its_lease_writes_no_status(cluster, user):
    from pods.services.reconcile import LeaseLost, _save

    instance = make_instance(user)
    instance.lease_token = "not-the-holder"
    with pytest.raises(LeaseLost):
        _save(instance, {"status": Status.RUNNING})
    instance.refresh_from_db()
    assert instance.status == Status.PENDING
