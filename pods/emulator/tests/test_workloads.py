"""The simulated cluster: Deployments through ReplicaSets, StatefulSets, scheduling, kubelet states,
garbage collection, namespaces, quotas. Passes are driven by ``emulator.tick()`` and a manual clock."""

from __future__ import annotations

import re

import pytest
from kubernetes.client.exceptions import ApiException

from .helpers import deployment, labels, statefulset, status_of


def _pods(core, namespace, selector=None):
    return core.list_namespaced_pod(namespace, label_selector=selector).items


def _condition(obj, kind):
    return next((c for c in obj.status.conditions or [] if c.type == kind), None)


def _events(core, namespace, reason):
    return [e for e in core.list_namespaced_event(namespace).items if e.reason == reason]


def test_deployment_runs_through_a_replicaset(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    emulator.tick()
    (rs,) = apps.list_namespaced_replica_set(namespace).items
    assert re.fullmatch(r"web-[a-z0-9]+", rs.metadata.name)
    assert rs.metadata.owner_references[0].kind == "Deployment" and rs.metadata.owner_references[0].controller
    pods = _pods(core, namespace)
    assert len(pods) == 2
    for pod in pods:
        assert re.fullmatch(rf"{rs.metadata.name}-[a-z0-9]{{5}}", pod.metadata.name)
        assert pod.status.phase == "Running" and pod.spec.node_name
        assert _condition(pod, "Ready").status == "True"
        status = pod.status.container_statuses[0]
        assert status.ready and status.started and status.state.running.started_at
    d = apps.read_namespaced_deployment("web", namespace)
    assert (d.status.observed_generation, d.status.replicas, d.status.ready_replicas) == (1, 2, 2)
    assert (d.status.available_replicas, d.status.updated_replicas) == (2, 2)
    assert _condition(d, "Available").status == "True"
    assert _condition(d, "Progressing").reason == "NewReplicaSetAvailable"
    reasons = {e.reason for e in core.list_namespaced_event(namespace).items}
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons


def test_ready_delay(core, apps, namespace, emulator, clock):
    emulator.set_ready_delay(5)
    apps.create_namespaced_deployment(namespace, deployment("web"))
    emulator.tick()
    (pod,) = _pods(core, namespace)
    assert pod.status.phase == "Running" and _condition(pod, "Ready").status == "False"
    assert not pod.status.container_statuses[0].ready
    clock.advance(4)
    emulator.tick()
    assert _condition(_pods(core, namespace)[0], "Ready").status == "False"
    clock.advance(1)
    emulator.tick()
    assert _condition(_pods(core, namespace)[0], "Ready").status == "True"
    assert apps.read_namespaced_deployment("web", namespace).status.ready_replicas == 1


def test_image_pull_failure(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web", image="registry.example/app:does-not-exist"))
    emulator.tick()
    (pod,) = _pods(core, namespace)
    waiting = pod.status.container_statuses[0].state.waiting
    assert waiting.reason == "ImagePullBackOff"
    assert pod.status.phase == "Pending" and not pod.status.container_statuses[0].ready
    assert {"Pulling", "Failed", "BackOff"} <= {e.reason for e in core.list_namespaced_event(namespace).items}
    assert any(e.message == "Error: ErrImagePull" for e in _events(core, namespace, "Failed"))
    d = apps.read_namespaced_deployment("web", namespace)
    assert _condition(d, "Available").status == "False"


def test_crash_loop(core, apps, namespace, emulator, clock):
    emulator.set_image_patterns(crash=r"unstable")
    apps.create_namespaced_deployment(namespace, deployment("web", image="example/unstable:1"))
    emulator.tick()
    (pod,) = _pods(core, namespace)
    status = pod.status.container_statuses[0]
    assert status.state.waiting.reason == "CrashLoopBackOff" and status.restart_count == 1
    assert status.last_state.terminated.exit_code == 1 and not status.ready
    for expected in (2, 3):
        clock.advance(100)
        emulator.tick()
        status = _pods(core, namespace)[0].status.container_statuses[0]
        assert status.restart_count == expected and status.state.waiting.reason == "CrashLoopBackOff"
    assert _events(core, namespace, "BackOff")[0].count >= 2


def test_unschedulable_pods_stay_pending(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("big", cpu="5", cpu_limit="6"))
    emulator.tick()
    (pod,) = _pods(core, namespace)
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    cond = _condition(pod, "PodScheduled")
    assert (cond.status, cond.reason) == ("False", "Unschedulable")
    assert cond.message == "0/3 nodes are available: 3 Insufficient cpu."
    (event,) = _events(core, namespace, "FailedScheduling")
    assert event.type == "Warning" and event.message == cond.message
    # A bigger node makes room: the pod is retried and scheduled.
    core.create_node(
        {"metadata": {"name": "large"}, "status": {"capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"}}}
    )
    core.patch_node_status("large", {"status": {"capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"}}})
    emulator.tick()
    assert _pods(core, namespace)[0].spec.node_name == "large"


def test_not_ready_and_cordoned_nodes_get_no_pods(core, apps, namespace, emulator):
    emulator.set_node_ready("emulator-node-1", False)
    emulator.set_node_ready("emulator-node-2", False)
    core.patch_node("emulator-node-3", {"spec": {"unschedulable": True}})
    apps.create_namespaced_deployment(namespace, deployment("web"))
    emulator.tick()
    message = _condition(_pods(core, namespace)[0], "PodScheduled").message
    assert message.startswith("0/3 nodes are available: ")
    assert "1 node(s) were unschedulable" in message and "2 node(s) had untolerated taint" in message
    emulator.set_node_ready("emulator-node-1", True)
    emulator.tick()
    assert _pods(core, namespace)[0].spec.node_name == "emulator-node-1"


def test_scale_to_zero_and_back(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    emulator.tick()
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 2 and scale.status.replicas == 2
    assert scale.status.selector == "app.kubernetes.io/component=web,app.kubernetes.io/name=web"
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 0}})
    emulator.tick()
    assert _pods(core, namespace) == []
    assert apps.read_namespaced_deployment("web", namespace).status.replicas is None
    scale.spec.replicas = 3
    scale.metadata.resource_version = None
    apps.replace_namespaced_deployment_scale("web", namespace, scale)
    emulator.tick()
    assert len(_pods(core, namespace)) == 3
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": -1}})
    assert caught.value.status == 422


def test_rollout_restart_replaces_pods_old_ones_first(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    emulator.tick()
    (old,) = _pods(core, namespace)
    restart = {
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-06-15T00:00:00Z"}}}
        }
    }
    apps.patch_namespaced_deployment("web", namespace, restart)
    emulator.tick()
    (new,) = _pods(core, namespace)
    assert new.metadata.name != old.metadata.name
    assert new.metadata.annotations["kubectl.kubernetes.io/restartedAt"] == "2025-06-15T00:00:00Z"
    sets = apps.list_namespaced_replica_set(namespace).items
    assert len(sets) == 2
    revisions = sorted(int(rs.metadata.annotations["deployment.kubernetes.io/revision"]) for rs in sets)
    assert revisions == [1, 2]
    # Recreate: the old pod was deleted before the new one was created.
    kinds = [
        (e.reason, e.involved_object.name)
        for e in core.list_namespaced_event(namespace).items
        if e.reason in ("Killing",)
    ]
    assert kinds == [("Killing", old.metadata.name)]
    scaled = [e.message for e in _events(core, namespace, "ScalingReplicaSet")]
    assert any("Scaled down" in m for m in scaled)
    d = apps.read_namespaced_deployment("web", namespace)
    assert d.status.observed_generation == 2 and d.status.updated_replicas == 1


def test_statefulset_pods_and_retained_claims(core, apps, namespace, emulator):
    apps.create_namespaced_stateful_set(namespace, statefulset("db", replicas=2))
    emulator.tick()
    pods = _pods(core, namespace)
    assert [p.metadata.name for p in pods] == ["db-0", "db-1"]
    assert all(_condition(p, "Ready").status == "True" for p in pods)
    claims = core.list_namespaced_persistent_volume_claim(namespace).items
    assert [c.metadata.name for c in claims] == ["data-db-0", "data-db-1"]
    for claim in claims:
        assert claim.status.phase == "Bound" and claim.spec.volume_name.startswith("pvc-")
        assert claim.status.capacity["storage"] == "1Gi"
        assert claim.metadata.labels == labels("db", "database")
    assert pods[0].spec.volumes[0].persistent_volume_claim.claim_name == "data-db-0"
    sts = apps.read_namespaced_stateful_set("db", namespace)
    assert (sts.status.replicas, sts.status.ready_replicas, sts.status.current_replicas) == (2, 2, 2)
    assert sts.status.current_revision == sts.status.update_revision

    apps.delete_namespaced_stateful_set("db", namespace)
    emulator.tick()
    assert _pods(core, namespace) == []
    assert len(core.list_namespaced_persistent_volume_claim(namespace).items) == 2  # Retain
    assert len(core.list_persistent_volume().items) == 2


def test_statefulset_ordered_start(core, apps, namespace, emulator, clock):
    emulator.set_ready_delay(10)
    apps.create_namespaced_stateful_set(namespace, statefulset("db", replicas=2))
    emulator.tick()
    assert [p.metadata.name for p in _pods(core, namespace)] == ["db-0"]
    clock.advance(10)
    emulator.tick()
    assert [p.metadata.name for p in _pods(core, namespace)] == ["db-0", "db-1"]


def test_namespace_deletion_cascades(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "string_data": {"a": "b"}})
    emulator.tick()
    core.delete_namespace(namespace)
    assert core.read_namespace(namespace).metadata.deletion_timestamp is not None
    emulator.tick()
    with pytest.raises(ApiException) as caught:
        core.read_namespace(namespace)
    assert caught.value.status == 404
    for resource in ("pods", "deployments", "replicasets", "secrets", "events"):
        assert emulator.objects(resource, namespace) == []


def test_garbage_collection_and_orphans(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    apps.create_namespaced_deployment(namespace, deployment("keep"))
    emulator.tick()
    apps.delete_namespaced_deployment("web", namespace)
    apps.delete_namespaced_deployment("keep", namespace, propagation_policy="Orphan")
    emulator.tick()
    assert [rs.metadata.name.split("-")[0] for rs in apps.list_namespaced_replica_set(namespace).items] == ["keep"]
    assert all(p.metadata.name.startswith("keep-") for p in _pods(core, namespace))
    assert apps.list_namespaced_replica_set(namespace).items[0].metadata.owner_references is None


def test_foreground_deletion_waits_for_dependents(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    emulator.tick()
    pending = apps.delete_namespaced_deployment("web", namespace, propagation_policy="Foreground")
    assert pending["metadata"]["deletionTimestamp"] and "foregroundDeletion" in pending["metadata"]["finalizers"]
    emulator.tick()
    assert emulator.objects("deployments", namespace) == []
    assert emulator.objects("pods", namespace) == []


def test_quota_refuses_pods_and_deployment_reports_it(core, apps, namespace, emulator):
    quota = {"metadata": {"name": "paas-quota"}, "spec": {"hard": {"requests.cpu": "150m", "pods": "5"}}}
    core.create_namespaced_resource_quota(namespace, quota)
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    emulator.tick()
    assert len(_pods(core, namespace)) == 1
    d = apps.read_namespaced_deployment("web", namespace)
    failure = _condition(d, "ReplicaFailure")
    assert (failure.status, failure.reason) == ("True", "FailedCreate")
    assert re.search(
        r'pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: paas-quota, requested: requests.cpu=100m, '
        r"used: requests.cpu=100m, limited: requests.cpu=150m",
        failure.message,
    )
    (event,) = _events(core, namespace, "FailedCreate")
    assert event.type == "Warning" and event.involved_object.kind == "ReplicaSet"
    status = core.read_namespaced_resource_quota("paas-quota", namespace).status
    assert status.hard == {"requests.cpu": "150m", "pods": "5"}
    assert status.used == {"requests.cpu": "100m", "pods": "1"}

    # Direct pod creation gets the 403 with the real message shape.
    pod = {
        "metadata": {"name": "extra"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "100m"}}}]},
    }
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(namespace, pod)
    assert caught.value.status == 403
    assert status_of(caught.value)["message"].startswith('pods "extra" is forbidden: exceeded quota: paas-quota')

    # More room: the ReplicaSet retries and the failure condition clears.
    core.patch_namespaced_resource_quota("paas-quota", namespace, {"spec": {"hard": {"requests.cpu": "1"}}})
    emulator.tick()
    assert len(_pods(core, namespace)) == 2
    assert _condition(apps.read_namespaced_deployment("web", namespace), "ReplicaFailure") is None


def test_limit_range_defaults_feed_the_quota(core, namespace, emulator):
    core.create_namespaced_limit_range(
        namespace,
        {
            "metadata": {"name": "limits"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "100m", "memory": "64Mi"},
                        "defaultRequest": {"cpu": "10m", "memory": "64Mi"},
                    }
                ]
            },
        },
    )
    core.create_namespaced_resource_quota(
        namespace,
        {
            "metadata": {"name": "q"},
            "spec": {"hard": {"requests.cpu": "15m", "limits.cpu": "1", "limits.memory": "1Gi"}},
        },
    )
    bare = {"metadata": {"name": "solver"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    created = core.create_namespaced_pod(namespace, bare)
    assert created.spec.containers[0].resources.requests == {"cpu": "10m", "memory": "64Mi"}
    assert created.spec.containers[0].resources.limits == {"cpu": "100m", "memory": "64Mi"}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(namespace, {**bare, "metadata": {"name": "second"}})
    assert (
        "exceeded quota: q, requested: requests.cpu=10m, used: requests.cpu=10m, limited: requests.cpu=15m"
        in status_of(caught.value)["message"]
    )


def test_quota_requires_declared_resources(core, namespace):
    core.create_namespaced_resource_quota(
        namespace, {"metadata": {"name": "q"}, "spec": {"hard": {"limits.memory": "1Gi"}}}
    )
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(
            namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        )
    assert caught.value.status == 403
    assert "failed quota: q: must specify limits.memory for: c" in status_of(caught.value)["message"]


def test_quota_counts_claims_and_services(core, namespace):
    hard = {"persistentvolumeclaims": "1", "requests.storage": "5Gi", "services.nodeports": "0"}
    core.create_namespaced_resource_quota(namespace, {"metadata": {"name": "q"}, "spec": {"hard": hard}})
    claim = {
        "metadata": {"name": "a"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim(namespace, claim)
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_persistent_volume_claim(namespace, {**claim, "metadata": {"name": "b"}})
    assert (
        "exceeded quota: q, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=1"
        in status_of(caught.value)["message"]
    )
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_persistent_volume_claim(
            "a", namespace, {"spec": {"resources": {"requests": {"storage": "6Gi"}}}}
        )
    assert caught.value.status == 403
    node_port = {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_service(namespace, node_port)
    assert "services.nodeports" in status_of(caught.value)["message"]


def test_statefulset_failed_create_event(core, apps, namespace, emulator):
    core.create_namespaced_resource_quota(
        namespace, {"metadata": {"name": "q"}, "spec": {"hard": {"requests.storage": "1Mi"}}}
    )
    apps.create_namespaced_stateful_set(namespace, statefulset("db"))
    emulator.tick()
    assert _pods(core, namespace) == []
    (event,) = _events(core, namespace, "FailedCreate")
    assert event.involved_object.kind == "StatefulSet" and "exceeded quota: q" in event.message


def test_rolling_update_keeps_old_pods_until_new_ones_are_available(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2, strategy="RollingUpdate"))
    emulator.tick()
    broken = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "example/app:does-not-exist"}]}}}}
    apps.patch_namespaced_deployment("web", namespace, broken)
    emulator.tick()
    phases = sorted(p.status.phase for p in _pods(core, namespace))
    assert phases == ["Pending", "Pending", "Running", "Running"]  # old pods still serve
    fixed = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}}
    apps.patch_namespaced_deployment("web", namespace, fixed)
    emulator.tick()
    pods = _pods(core, namespace)
    assert len(pods) == 2 and {p.spec.containers[0].image for p in pods} == {"nginx:1.28"}


def test_progress_deadline(apps, namespace, emulator, clock):
    apps.create_namespaced_deployment(namespace, deployment("web", image="example/app:does-not-exist"))
    emulator.tick()
    assert _condition(apps.read_namespaced_deployment("web", namespace), "Progressing").status == "True"
    clock.advance(601)
    emulator.tick()
    progressing = _condition(apps.read_namespaced_deployment("web", namespace), "Progressing")
    assert (progressing.status, progressing.reason) == ("False", "ProgressDeadlineExceeded")
