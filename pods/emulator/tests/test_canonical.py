"""What the server writes back: canonical quantities, zero values left out (``omitempty``), and the
defaults of StatefulSet claim templates — in what a write answers, a read returns and a list holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client, config

from pods.emulator import Emulator, EmulatorServer

from .conftest import Clock
from .helpers import deployment, raw_request, statefulset

APPLY = "application/apply-patch+yaml"


def raw(response: Any) -> dict[str, Any]:
    """The JSON of a call made with ``_preload_content=False`` (absent and null stay apart)."""
    return json.loads(response.data)


def resources(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]["resources"]


# --- quantities ---------------------------------------------------------------------------------


def test_container_quantities_are_canonical_everywhere(apps, core, emulator, namespace):
    manifest = deployment(
        "web", replicas=1, cpu="1000m", memory="1024Mi", cpu_limit="2000m", memory_limit="2048Mi", strategy="Recreate"
    )
    canonical = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    created = raw(apps.create_namespaced_deployment(namespace, manifest, _preload_content=False))
    assert resources(created) == canonical
    assert resources(raw(apps.read_namespaced_deployment("web", namespace, _preload_content=False))) == canonical
    listed = raw(apps.list_namespaced_deployment(namespace, _preload_content=False))
    assert resources(listed["items"][0]) == canonical

    emulator.tick()
    (rs,) = raw(apps.list_namespaced_replica_set(namespace, _preload_content=False))["items"]
    assert resources(rs) == canonical
    (pod,) = raw(core.list_namespaced_pod(namespace, _preload_content=False))["items"]
    assert pod["spec"]["containers"][0]["resources"] == canonical

    # Sending the same values in another spelling changes nothing: same resourceVersion.
    version = raw(apps.read_namespaced_deployment("web", namespace, _preload_content=False))["metadata"][
        "resourceVersion"
    ]
    again = raw(apps.replace_namespaced_deployment("web", namespace, manifest, _preload_content=False))
    assert again["metadata"]["resourceVersion"] == version


def apply(api: Any, method: str, *args: Any) -> dict[str, Any]:
    """Server-side apply through the official client, as the platform's driver does it."""
    call = getattr(api, method)
    return raw(call(*args, field_manager="paas", force=True, _content_type=APPLY, _preload_content=False))


def test_applying_the_same_quantities_twice_changes_nothing(apps, namespace):
    manifest = deployment("web", cpu="1000m", memory="1024Mi", cpu_limit="2000m", memory_limit="2048Mi")
    first = apply(apps, "patch_namespaced_deployment", "web", namespace, manifest)
    assert resources(first) == {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    second = apply(apps, "patch_namespaced_deployment", "web", namespace, manifest)
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert second == first


def test_claims_quotas_and_limit_ranges(core, emulator, namespace):
    core.create_namespaced_resource_quota(
        namespace,
        {
            "metadata": {"name": "q"},
            "spec": {
                "hard": {
                    "requests.cpu": "1000m",
                    "requests.memory": "2048Mi",
                    "requests.storage": "20480Mi",
                    "limits.memory": "4096Mi",
                    "pods": "10",
                    "count/configmaps": "1000",
                }
            },
        },
    )
    core.create_namespaced_limit_range(
        namespace,
        {
            "metadata": {"name": "l"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "0.1", "memory": "64Mi"},
                        "defaultRequest": {"cpu": "10m", "memory": "65536Ki"},
                        "max": {"cpu": "2000m", "memory": "2048Mi", "ephemeral-storage": "1000M"},
                        "min": {"cpu": "0.001", "memory": "1G"},
                    }
                ]
            },
        },
    )
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5120Mi"}}},
    }
    created = raw(core.create_namespaced_persistent_volume_claim(namespace, claim, _preload_content=False))
    assert created["spec"]["resources"]["requests"] == {"storage": "5Gi"}
    emulator.tick()

    pvc = raw(core.read_namespaced_persistent_volume_claim("data", namespace, _preload_content=False))
    assert pvc["status"]["capacity"] == {"storage": "5Gi"}
    grown = raw(
        core.patch_namespaced_persistent_volume_claim(
            "data", namespace, {"spec": {"resources": {"requests": {"storage": "20480Mi"}}}}, _preload_content=False
        )
    )
    assert grown["spec"]["resources"]["requests"] == {"storage": "20Gi"}
    emulator.tick()
    pvc = raw(core.read_namespaced_persistent_volume_claim("data", namespace, _preload_content=False))
    assert pvc["status"]["capacity"] == {"storage": "20Gi"}
    volume = raw(core.read_persistent_volume(pvc["spec"]["volumeName"], _preload_content=False))
    assert volume["spec"]["capacity"] == {"storage": "20Gi"}

    quota = raw(core.read_namespaced_resource_quota("q", namespace, _preload_content=False))
    hard = {
        "requests.cpu": "1",
        "requests.memory": "2Gi",
        "requests.storage": "20Gi",
        "limits.memory": "4Gi",
        "pods": "10",
        "count/configmaps": "1k",
    }
    assert quota["spec"]["hard"] == hard
    assert quota["status"]["hard"] == hard
    assert quota["status"]["used"]["requests.storage"] == "20Gi"
    assert quota["status"]["used"]["count/configmaps"] == "1"  # kube-root-ca.crt

    limits = raw(core.read_namespaced_limit_range("l", namespace, _preload_content=False))["spec"]["limits"][0]
    assert limits["default"] == {"cpu": "100m", "memory": "64Mi"}
    assert limits["defaultRequest"] == {"cpu": "10m", "memory": "64Mi"}
    assert limits["max"] == {"cpu": "2", "memory": "2Gi", "ephemeral-storage": "1G"}
    assert limits["min"] == {"cpu": "1m", "memory": "1G"}


def test_statefulset_templates_and_their_claims_and_pods(apps, core, emulator, namespace):
    manifest = statefulset("db", storage="1536Mi")
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "0.25", "memory": "524288Ki"},
        "limits": {"cpu": "1000m", "memory": "1024Mi"},
    }
    canonical = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    created = raw(apps.create_namespaced_stateful_set(namespace, manifest, _preload_content=False))
    assert resources(created) == canonical
    assert created["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"] == {"storage": "1536Mi"}
    emulator.tick()
    claim = raw(core.read_namespaced_persistent_volume_claim("data-db-0", namespace, _preload_content=False))
    assert claim["spec"]["resources"]["requests"] == {"storage": "1536Mi"}
    assert claim["status"]["capacity"] == {"storage": "1536Mi"}
    pod = raw(core.read_namespaced_pod("db-0", namespace, _preload_content=False))
    assert pod["spec"]["containers"][0]["resources"] == canonical


def test_node_capacity_is_canonical(clock: Clock, tmp_path):
    emulator = Emulator(nodes=1, node_cpu="4000m", node_memory="8192Mi", ready_delay=0, clock=clock)
    server = EmulatorServer(emulator).start()
    try:
        configuration = client.Configuration()
        config.load_kube_config(
            str(server.write_kubeconfig(tmp_path / "kubeconfig")), client_configuration=configuration
        )
        with client.ApiClient(configuration) as api:
            node = raw(client.CoreV1Api(api).read_node("emulator-node-1", _preload_content=False))
    finally:
        server.stop()
    assert node["status"]["capacity"]["cpu"] == "4" and node["status"]["capacity"]["memory"] == "8Gi"
    assert node["status"]["allocatable"]["cpu"] == "3900m" and node["status"]["allocatable"]["memory"] == "7936Mi"


def test_restored_state_is_canonical(emulator, namespace):
    snapshot = emulator.snapshot()
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "old", "namespace": namespace, "uid": "u", "resourceVersion": "1", "annotations": {}},
        "data": {"empty": ""},
    }
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "old", "namespace": namespace, "uid": "v", "resourceVersion": "2"},
        "spec": {"hard": {"requests.memory": "1024Mi"}},
    }
    snapshot["objects"]["configmaps"].append(cm)
    snapshot["objects"]["resourcequotas"].append(quota)
    emulator.restore(snapshot)
    assert emulator.get("configmaps", namespace, "old")["metadata"] == {
        "name": "old",
        "namespace": namespace,
        "uid": "u",
        "resourceVersion": "1",
    }
    assert emulator.get("configmaps", namespace, "old")["data"] == {"empty": ""}
    assert emulator.get("resourcequotas", namespace, "old")["spec"]["hard"] == {"requests.memory": "1Gi"}


# --- zero values ----------------------------------------------------------------------------------


def _zeroes_deployment(replicas: int = 1) -> dict[str, Any]:
    manifest = deployment("web", replicas=replicas)
    manifest["metadata"]["annotations"] = {}
    pod = manifest["spec"]["template"]["spec"]
    pod.update(automountServiceAccountToken=False, enableServiceLinks=False, hostNetwork=False, nodeSelector={})
    container = pod["containers"][0]
    container["env"].append({"name": "EMPTY", "value": ""})
    container["args"] = []
    container["volumeMounts"][0].update(readOnly=False, subPath="")
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"], "add": []},
    }
    container["readinessProbe"] = {
        "httpGet": {"path": "/", "port": "http", "scheme": "HTTP", "httpHeaders": []},
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
    }
    container["ports"][0]["hostPort"] = 0
    manifest["spec"]["template"]["metadata"]["annotations"] = {}
    manifest["spec"]["minReadySeconds"] = 0
    manifest["spec"]["paused"] = False
    return manifest


def _check_zeroes(obj: dict[str, Any], replicas: int) -> None:
    assert "annotations" not in obj["metadata"]
    spec = obj["spec"]
    assert spec["replicas"] == replicas  # a pointer: 0 stays
    assert "minReadySeconds" not in spec and "paused" not in spec
    assert "annotations" not in spec["template"]["metadata"]
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    assert "hostNetwork" not in pod and "nodeSelector" not in pod
    assert pod["volumes"] == [{"name": "data", "emptyDir": {}}]  # an empty struct stays
    (container,) = pod["containers"]
    assert container["env"][-1] == {"name": "EMPTY"}
    assert "args" not in container
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    probe = container["readinessProbe"]
    assert "initialDelaySeconds" not in probe and "httpHeaders" not in probe["httpGet"]
    assert (probe["periodSeconds"], probe["timeoutSeconds"], probe["failureThreshold"]) == (10, 1, 3)
    assert "hostPort" not in container["ports"][0]


@pytest.mark.parametrize("replicas", [1, 0])
def test_zero_values_are_left_out(apps, emulator, namespace, replicas):
    created = raw(apps.create_namespaced_deployment(namespace, _zeroes_deployment(replicas), _preload_content=False))
    _check_zeroes(created, replicas)
    _check_zeroes(raw(apps.read_namespaced_deployment("web", namespace, _preload_content=False)), replicas)
    _check_zeroes(raw(apps.list_namespaced_deployment(namespace, _preload_content=False))["items"][0], replicas)
    # An update that sends the zero values again is a no-op.
    again = raw(
        apps.replace_namespaced_deployment("web", namespace, _zeroes_deployment(replicas), _preload_content=False)
    )
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    emulator.tick()
    status = raw(apps.read_namespaced_deployment("web", namespace, _preload_content=False))["status"]
    if replicas == 0:
        assert not {"replicas", "readyReplicas", "availableReplicas", "updatedReplicas"} & set(status)
    else:
        assert status["replicas"] == status["readyReplicas"] == 1


def test_values_and_items_are_not_fields(core, namespace):
    created = raw(
        core.create_namespaced_config_map(
            namespace,
            {"metadata": {"name": "cm", "labels": {"flag": ""}}, "data": {"empty": ""}},
            _preload_content=False,
        )
    )
    assert created["metadata"]["labels"] == {"flag": ""}
    assert created["data"] == {"empty": ""}
    service = raw(
        core.create_namespaced_service(
            namespace,
            {
                "metadata": {"name": "svc"},
                "spec": {
                    "selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                    "publishNotReadyAddresses": False,
                    "externalIPs": [],
                    "sessionAffinity": "",
                },
            },
            _preload_content=False,
        )
    )
    assert "publishNotReadyAddresses" not in service["spec"] and "externalIPs" not in service["spec"]
    assert service["spec"]["sessionAffinity"] == "None"  # empty, then defaulted


def test_limit_ranges_keep_their_limits_list(server, namespace):
    status, _, body = raw_request(
        server,
        "POST",
        f"/api/v1/namespaces/{namespace}/limitranges",
        {"metadata": {"name": "l"}, "spec": {"limits": []}},
    )
    assert status == 201
    assert body["spec"] == {"limits": []}  # not omitempty in the Go type


# --- StatefulSet claim templates -------------------------------------------------------------------


def _check_templates(obj: dict[str, Any]) -> None:
    (template,) = obj["spec"]["volumeClaimTemplates"]
    assert template["apiVersion"] == "v1" and template["kind"] == "PersistentVolumeClaim"
    assert template["spec"]["volumeMode"] == "Filesystem"
    assert template["status"] == {"phase": "Pending"}
    assert template["spec"]["resources"]["requests"] == {"storage": "2Gi"}


def test_claim_templates_are_defaulted(apps, namespace):
    created = raw(
        apps.create_namespaced_stateful_set(namespace, statefulset("db", storage="2048Mi"), _preload_content=False)
    )
    _check_templates(created)
    read = raw(apps.read_namespaced_stateful_set("db", namespace, _preload_content=False))
    _check_templates(read)
    _check_templates(raw(apps.list_namespaced_stateful_set(namespace, _preload_content=False))["items"][0])

    # Writing back what was read, or re-applying the manifest without the defaults, is accepted
    # (the templates are immutable) and changes nothing.
    replaced = raw(apps.replace_namespaced_stateful_set("db", namespace, read, _preload_content=False))
    assert replaced["metadata"]["resourceVersion"] == read["metadata"]["resourceVersion"]
    applied = apply(apps, "patch_namespaced_stateful_set", "db", namespace, statefulset("db", storage="2048Mi"))
    _check_templates(applied)
    again = apply(apps, "patch_namespaced_stateful_set", "db", namespace, statefulset("db", storage="2048Mi"))
    assert again["metadata"]["resourceVersion"] == applied["metadata"]["resourceVersion"]
