"""Pod logs, metrics.k8s.io, access reviews, events, and typed reads of every served kind."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from pods.quantity import parse_quantity

from .helpers import container, deployment, statefulset, status_of


def _pod(core, namespace):
    (pod,) = core.list_namespaced_pod(namespace).items
    return pod


def test_logs_are_synthetic_and_say_so(core, apps, namespace, emulator, clock):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    emulator.tick()
    clock.advance(95)
    name = _pod(core, namespace).metadata.name
    text = core.read_namespaced_pod_log(name, namespace)
    lines = text.splitlines()
    assert len(lines) == 4
    assert all(line.startswith("[paas-emulator] synthetic log:") for line in lines)
    assert f"container web of pod {name} is running (not real application output)" in lines[-1]
    assert core.read_namespaced_pod_log(name, namespace, tail_lines=2).splitlines() == lines[-2:]
    stamped = core.read_namespaced_pod_log(name, namespace, timestamps=True, container="web")
    assert stamped.splitlines()[0].startswith("2025-06-15T")
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log(name, namespace, previous=True)
    assert caught.value.status == 400


def test_log_errors(core, apps, namespace, emulator):
    two = deployment("two")
    two["spec"]["template"]["spec"]["containers"].append(container("sidecar", "busybox:1.36") | {"ports": []})
    apps.create_namespaced_deployment(namespace, two)
    apps.create_namespaced_deployment(namespace, deployment("broken", image="example/app:does-not-exist"))
    emulator.tick()
    pods = {
        p.metadata.labels["app.kubernetes.io/name"]: p.metadata.name for p in core.list_namespaced_pod(namespace).items
    }
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log(pods["two"], namespace)
    assert caught.value.status == 400
    assert (
        status_of(caught.value)["message"]
        == f"a container name must be specified for pod {pods['two']}, choose one of: [web sidecar]"
    )
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log(pods["two"], namespace, container="nope")
    assert caught.value.status == 400
    assert core.read_namespaced_pod_log(pods["two"], namespace, container="sidecar")
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log(pods["broken"], namespace)
    assert status_of(caught.value)["message"] == (
        f'container "web" in pod "{pods["broken"]}" is waiting to start: trying and failing to pull image'
    )


def test_previous_logs_of_a_crashing_container(core, apps, namespace, emulator):
    apps.create_namespaced_deployment(namespace, deployment("web", image="example/crashloop:1"))
    emulator.tick()
    name = _pod(core, namespace).metadata.name
    previous = core.read_namespaced_pod_log(name, namespace, previous=True)
    assert previous.splitlines()[-1].endswith("exited with code 1 (simulated crash loop)")


def test_metrics(custom, apps, core, namespace, emulator, clock):
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    apps.create_namespaced_deployment(namespace, deployment("broken", image="x/app:does-not-exist"))
    emulator.tick()
    listed = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods")
    assert listed["kind"] == "PodMetricsList"
    names = {item["metadata"]["name"] for item in listed["items"]}
    running = {p.metadata.name for p in core.list_namespaced_pod(namespace).items if p.status.phase == "Running"}
    assert names == running and len(names) == 2
    for item in listed["items"]:
        (usage,) = item["containers"]
        cpu, memory = usage["usage"]["cpu"], usage["usage"]["memory"]
        assert cpu.endswith("n") and memory.endswith("Ki")
        assert 0 < parse_quantity(cpu) <= parse_quantity("500m")
        assert 0 < parse_quantity(memory) <= parse_quantity("256Mi")
    name = sorted(names)[0]
    one = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods", name)
    again = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods", name)
    assert one["containers"] == again["containers"]  # deterministic
    clock.advance(150)
    later = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods", name)
    assert later["containers"] != one["containers"]  # but it moves with time
    selected = custom.list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", namespace, "pods", label_selector="app.kubernetes.io/name=nothing"
    )
    assert selected["items"] == []
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert {n["metadata"]["name"] for n in nodes["items"]} == {"emulator-node-1", "emulator-node-2", "emulator-node-3"}
    for node in nodes["items"]:
        assert parse_quantity(node["usage"]["cpu"]) <= 4 and parse_quantity(node["usage"]["memory"]) <= parse_quantity(
            "8Gi"
        )
    with pytest.raises(ApiException) as caught:
        custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods", "missing")
    assert caught.value.status == 404


def test_access_reviews(api_client, emulator):
    authz = client.AuthorizationV1Api(api_client)

    def review(verb, resource, group="", namespace="team-a"):
        body = {
            "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": group, "namespace": namespace}}
        }
        return authz.create_self_subject_access_review(body).status

    assert review("create", "deployments", "apps").allowed
    emulator.deny("create", "deployments", "apps", namespace="team-a")
    denied = review("create", "deployments", "apps")
    assert denied.allowed is False and "create deployments" in denied.reason
    assert review("create", "deployments", "apps", namespace="team-b").allowed
    assert review("get", "deployments", "apps").allowed


def test_every_served_kind_deserializes(core, apps, networking, api_client, namespace, emulator):
    """The client's models are strict: reading every kind through its typed method proves its shape."""
    core.create_namespaced_resource_quota(namespace, {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "10"}}})
    core.create_namespaced_limit_range(
        namespace, {"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}}
    )
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "string_data": {"k": "v"}})
    core.create_namespaced_service(namespace, {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    apps.create_namespaced_deployment(namespace, deployment("web"))
    apps.create_namespaced_stateful_set(namespace, statefulset("db"))
    networking.create_namespaced_ingress(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {
                "rules": [
                    {
                        "host": "web.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "svc", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
    )
    networking.create_namespaced_network_policy(namespace, {"metadata": {"name": "deny"}, "spec": {"podSelector": {}}})
    emulator.tick()
    emulator.set_node_ready("emulator-node-3", False)
    reads = [
        core.list_namespace(),
        core.list_node(),
        core.list_namespaced_pod(namespace),
        core.list_pod_for_all_namespaces(),
        core.list_namespaced_secret(namespace),
        core.list_namespaced_config_map(namespace),
        core.list_namespaced_service(namespace),
        core.list_namespaced_persistent_volume_claim(namespace),
        core.list_persistent_volume(),
        core.list_namespaced_resource_quota(namespace),
        core.list_namespaced_limit_range(namespace),
        core.list_namespaced_event(namespace),
        core.list_namespaced_service_account(namespace),
        apps.list_namespaced_deployment(namespace),
        apps.list_namespaced_stateful_set(namespace),
        apps.list_namespaced_replica_set(namespace),
        networking.list_namespaced_ingress(namespace),
        networking.list_namespaced_network_policy(namespace),
        apps.read_namespaced_deployment_scale("web", namespace),
        apps.read_namespaced_stateful_set_scale("db", namespace),
        apps.read_namespaced_deployment_status("web", namespace),
        core.read_namespace_status(namespace),
    ]
    for result in reads:
        assert result is not None
        for item in getattr(result, "items", None) or []:
            assert item.metadata.name
    assert all(len(r.items) for r in reads[:18]), [type(r).__name__ for r in reads[:18] if not r.items]
