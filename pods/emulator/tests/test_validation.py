"""422 Invalid: strict schema validation, the server's semantic checks, immutable fields."""

from __future__ import annotations

import base64

import pytest
from kubernetes.client.exceptions import ApiException

from .helpers import deployment, raw_request, statefulset, status_of


def _invalid(call, *args, **kwargs) -> dict:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 422, caught.value.body
    body = status_of(caught.value)
    assert body["reason"] == "Invalid"
    return body


def _fields(body: dict) -> set[str]:
    return {cause["field"] for cause in body["details"]["causes"]}


def test_schema_violations_are_listed_with_their_fields(server, namespace):
    bad = deployment("web")
    bad["spec"]["replicas"] = "two"
    bad["spec"]["surprise"] = True
    del bad["spec"]["template"]["spec"]["containers"][0]["name"]
    status, _, body = raw_request(server, "POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", bad)
    assert status == 422 and body["reason"] == "Invalid"
    assert _fields(body) == {"spec.replicas", "spec.surprise", "spec.template.spec.containers[0].name"}
    assert body["details"]["kind"] == "Deployment" and body["details"]["group"] == "apps"
    assert body["message"].startswith('Deployment.apps "web" is invalid: [')
    reasons = {c["field"]: c["reason"] for c in body["details"]["causes"]}
    assert reasons["spec.template.spec.containers[0].name"] == "FieldValueRequired"


def test_names_and_labels(core, apps, namespace):
    body = _invalid(apps.create_namespaced_deployment, namespace, deployment("Web_App"))
    assert "metadata.name" in _fields(body)
    assert "RFC 1123" in body["details"]["causes"][0]["message"]
    body = _invalid(core.create_namespace, {"metadata": {"name": "a.b"}})  # namespaces are DNS labels
    assert _fields(body) == {"metadata.name"}
    body = _invalid(
        core.create_namespaced_service, namespace, {"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert "DNS-1035" in body["details"]["causes"][0]["message"]
    cm = {"metadata": {"name": "cm", "labels": {"bad key!": "x", "ok": "not valid value"}}}
    body = _invalid(core.create_namespaced_config_map, namespace, cm)
    assert _fields(body) == {"metadata.labels"}
    assert len(body["details"]["causes"]) == 2


def test_workload_selector_must_match_template(apps, namespace):
    bad = deployment("web")
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    body = _invalid(apps.create_namespaced_deployment, namespace, bad)
    assert "spec.template.metadata.labels" in _fields(body)
    assert "`selector` does not match template `labels`" in body["message"]
    bad = statefulset("db")
    bad["spec"]["selector"] = {"matchLabels": {}}
    body = _invalid(apps.create_namespaced_stateful_set, namespace, bad)
    assert "spec.selector" in _fields(body)


def test_enums_and_quantities(core, apps, namespace):
    bad = deployment("web")
    bad["spec"]["strategy"] = {"type": "Sometimes"}
    body = _invalid(apps.create_namespaced_deployment, namespace, bad)
    assert body["details"]["causes"][0]["reason"] == "FieldValueNotSupported"
    bad = deployment("web", cpu="lots")
    body = _invalid(apps.create_namespaced_deployment, namespace, bad)
    assert "spec.template.spec.containers[0].resources.requests[cpu]" in _fields(body)
    quota = {"metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": "1 core"}}}
    _invalid(core.create_namespaced_resource_quota, namespace, quota)


def test_secret_data_must_be_base64_and_string_data_is_merged(core, namespace):
    _invalid(core.create_namespaced_secret, namespace, {"metadata": {"name": "s"}, "data": {"k": "not base64!"}})
    created = core.create_namespaced_secret(
        namespace,
        {"metadata": {"name": "s"}, "data": {"a": base64.b64encode(b"one").decode()}, "stringData": {"b": "two"}},
    )
    assert created.string_data is None
    assert base64.b64decode(created.data["b"]) == b"two"
    assert created.type == "Opaque"


def test_immutable_fields(core, apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    changed = deployment("web")
    changed["spec"]["selector"]["matchLabels"]["extra"] = "x"
    changed["spec"]["template"]["metadata"]["labels"]["extra"] = "x"
    body = _invalid(apps.replace_namespaced_deployment, "web", namespace, changed)
    assert "spec.selector" in _fields(body) and "field is immutable" in body["message"]

    apps.create_namespaced_stateful_set(namespace, statefulset("db"))
    body = _invalid(apps.patch_namespaced_stateful_set, "db", namespace, {"spec": {"serviceName": "other"}})
    assert "updates to statefulset spec for fields other than" in body["message"]
    body = _invalid(apps.patch_namespaced_stateful_set, "db", namespace, {"spec": {"podManagementPolicy": "Parallel"}})
    assert _fields(body) == {"spec"}
    apps.patch_namespaced_stateful_set("db", namespace, {"spec": {"replicas": 2}})  # replicas may change

    pvc = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim(namespace, pvc)
    grown = core.patch_namespaced_persistent_volume_claim(
        "data", namespace, {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    )
    assert grown.spec.resources.requests["storage"] == "2Gi"
    _invalid(
        core.patch_namespaced_persistent_volume_claim,
        "data",
        namespace,
        {"spec": {"resources": {"requests": {"storage": "1Gi"}}}},
    )
    _invalid(
        core.patch_namespaced_persistent_volume_claim, "data", namespace, {"spec": {"accessModes": ["ReadWriteMany"]}}
    )

    svc = core.create_namespaced_service(namespace, {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    body = _invalid(core.patch_namespaced_service, "svc", namespace, {"spec": {"clusterIP": "10.96.9.9"}})
    assert "spec.clusterIP" in _fields(body)
    # A replace that leaves clusterIP out keeps the allocated one, as on a real server.
    kept = core.replace_namespaced_service(
        "svc", namespace, {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 81}]}}
    )
    assert kept.spec.cluster_ip == svc.spec.cluster_ip

    secret = {"metadata": {"name": "s"}, "immutable": True, "data": {"k": base64.b64encode(b"v").decode()}}
    core.create_namespaced_secret(namespace, secret)
    _invalid(core.patch_namespaced_secret, "s", namespace, {"data": {"k": base64.b64encode(b"w").decode()}})
    _invalid(core.patch_namespaced_secret, "s", namespace, {"immutable": False})
    core.patch_namespaced_secret("s", namespace, {"metadata": {"labels": {"ok": "yes"}}})  # metadata stays mutable


def test_services_get_cluster_ips(core, namespace):
    first = core.create_namespaced_service(namespace, {"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}})
    second = core.create_namespaced_service(namespace, {"metadata": {"name": "b"}, "spec": {"ports": [{"port": 80}]}})
    headless = core.create_namespaced_service(
        namespace, {"metadata": {"name": "c"}, "spec": {"clusterIP": "None", "ports": [{"port": 3306}]}}
    )
    external = core.create_namespaced_service(
        namespace, {"metadata": {"name": "d"}, "spec": {"type": "ExternalName", "externalName": "example.com"}}
    )
    assert first.spec.cluster_ip.startswith("10.9") and first.spec.cluster_ip != second.spec.cluster_ip
    assert first.spec.cluster_ips == [first.spec.cluster_ip]
    assert headless.spec.cluster_ip == "None"
    assert external.spec.cluster_ip is None
    assert first.spec.ports[0].target_port == 80 and first.spec.ports[0].protocol == "TCP"


def test_unknown_fields_can_be_ignored_on_request(server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    body = {"metadata": {"name": "cm"}, "data": {"k": "v"}, "extra": 1}
    status, _, answer = raw_request(server, "POST", path, body)
    assert status == 422 and answer["details"]["causes"][0]["field"] == "extra"
    assert raw_request(server, "POST", path + "?fieldValidation=Ignore", body)[0] == 201
