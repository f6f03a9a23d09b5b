"""Discovery, authentication, error bodies, and the metadata a real API server sets."""

from __future__ import annotations

import json
import re

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .helpers import deployment, raw_request, status_of


def test_version_and_health(api_client, server):
    info = client.VersionApi(api_client).get_code()
    assert (info.major, info.minor) == ("1", "33")
    for path in ("/version", "/version/", "/healthz", "/livez", "/readyz"):
        assert raw_request(server, "GET", path, token=None)[0] == 200, path
    assert raw_request(server, "GET", "/readyz")[2] == b"ok"


def test_discovery_documents(api_client):
    core = client.CoreV1Api(api_client).get_api_resources()
    by_name = {res.name: res for res in core.resources}
    assert by_name["pods"].namespaced and by_name["pods"].kind == "Pod" and "po" in by_name["pods"].short_names
    assert not by_name["namespaces"].namespaced and not by_name["nodes"].namespaced
    assert by_name["pods/log"].kind == "Pod"
    apps = client.AppsV1Api(api_client).get_api_resources()
    scale = {res.name: res for res in apps.resources}["deployments/scale"]
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    groups = {g.name for g in client.ApisApi(api_client).get_api_versions().groups}
    assert {"apps", "networking.k8s.io", "authorization.k8s.io", "metrics.k8s.io"} <= groups
    versions = client.CoreApi(api_client).get_api_versions()
    assert versions.versions == ["v1"]


def test_legacy_discovery_even_when_aggregated_is_asked_for(server):
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, headers, body = raw_request(server, "GET", "/apis", accept=accept)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body["kind"] == "APIGroupList"


def test_authentication(server):
    status, _, body = raw_request(server, "GET", "/api/v1/namespaces", token="wrong")
    assert status == 401
    assert body["reason"] == "Unauthorized"
    assert raw_request(server, "GET", "/api/v1/namespaces", token=None)[0] == 401
    assert raw_request(server, "GET", "/api/v1/namespaces")[0] == 200


def test_unknown_paths_and_verbs(server, core, namespace):
    status, _, body = raw_request(server, "GET", "/apis/apps/v1/namespaces/team-a/widgets")
    assert status == 404 and body["reason"] == "NotFound"
    assert raw_request(server, "GET", "/nothing/here")[0] == 404
    # Services have no deletecollection on a real server.
    status, _, body = raw_request(server, "DELETE", "/api/v1/namespaces/team-a/services")
    assert status == 405 and body["reason"] == "MethodNotAllowed"
    status, _, body = raw_request(server, "GET", "/api/v1/namespaces/team-a/pods?watch=true")
    assert status == 405 and "watch is not supported" in body["message"]
    # The control API is not reachable as a Kubernetes path.
    assert raw_request(server, "GET", "/api/v1/_emulator/settings")[0] == 404


def test_not_found_and_already_exists_bodies(apps, namespace):
    with pytest.raises(ApiException) as caught:
        apps.read_namespaced_deployment("missing", namespace)
    assert caught.value.status == 404
    body = status_of(caught.value)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == 404
    assert body["reason"] == "NotFound"
    assert body["message"] == 'deployments.apps "missing" not found'
    assert body["details"] == {"name": "missing", "group": "apps", "kind": "deployments"}

    apps.create_namespaced_deployment(namespace, deployment("web"))
    with pytest.raises(ApiException) as caught:
        apps.create_namespaced_deployment(namespace, deployment("web"))
    assert caught.value.status == 409
    assert status_of(caught.value)["reason"] == "AlreadyExists"


def test_server_set_metadata(apps, core, namespace):
    created = apps.create_namespaced_deployment(namespace, deployment("web"))
    meta = created.metadata
    assert re.fullmatch(r"[0-9a-f-]{36}", meta.uid)
    assert meta.generation == 1 and meta.namespace == namespace
    assert int(meta.resource_version) > 0
    raw = apps.read_namespaced_deployment("web", namespace, _preload_content=False)
    doc = json.loads(raw.data)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["metadata"]["creationTimestamp"])
    assert doc["kind"] == "Deployment" and doc["apiVersion"] == "apps/v1"

    # One cluster-wide counter: every write gets a larger resourceVersion.
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert int(cm.metadata.resource_version) > int(meta.resource_version)

    # Metadata-only change: no new generation; spec change: +1.
    patched = apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"extra": "yes"}}})
    assert patched.metadata.generation == 1
    patched = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 2}})
    assert patched.metadata.generation == 2


def test_namespace_in_body_must_match_url(core, namespace):
    body = {"metadata": {"name": "cm", "namespace": "other"}}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, body)
    assert caught.value.status == 400
    assert status_of(caught.value)["reason"] == "BadRequest"


def test_generate_name(core, namespace):
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "settings-"}})
    assert re.fullmatch(r"settings-[a-z0-9]{5}", cm.metadata.name)


def test_no_op_update_keeps_the_resource_version(core, namespace):
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    again = core.patch_namespaced_config_map("cm", namespace, {"data": {"k": "v"}})
    assert again.metadata.resource_version == cm.metadata.resource_version
    same = core.replace_namespaced_config_map("cm", namespace, {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    assert same.metadata.resource_version == cm.metadata.resource_version


def test_optimistic_concurrency(core, namespace):
    cm = core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}, "data": {"k": "1"}})
    stale = cm.metadata.resource_version
    core.patch_namespaced_config_map("cm", namespace, {"data": {"k": "2"}})
    body = {"metadata": {"name": "cm", "resourceVersion": stale}, "data": {"k": "3"}}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("cm", namespace, body)
    assert caught.value.status == 409
    assert status_of(caught.value)["reason"] == "Conflict"
    assert "the object has been modified" in status_of(caught.value)["message"]
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map("cm", namespace, {"metadata": {"resourceVersion": stale}, "data": {"k": "4"}})
    assert caught.value.status == 409
    # Without a resourceVersion an update is unconditional.
    done = core.replace_namespaced_config_map("cm", namespace, {"metadata": {"name": "cm"}, "data": {"k": "5"}})
    assert done.data == {"k": "5"}


def test_namespace_must_exist_and_not_be_terminating(core, namespace, emulator):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("nowhere", {"metadata": {"name": "cm"}})
    assert caught.value.status == 404
    assert status_of(caught.value)["message"] == 'namespaces "nowhere" not found'

    core.delete_namespace(namespace)
    assert core.read_namespace(namespace).status.phase == "Terminating"
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    assert caught.value.status == 403
    assert status_of(caught.value)["reason"] == "Forbidden"
    assert (
        "unable to create new content in namespace team-a because it is being terminated"
        in status_of(caught.value)["message"]
    )


def test_system_namespaces_cannot_be_deleted(core):
    with pytest.raises(ApiException) as caught:
        core.delete_namespace("kube-system")
    assert caught.value.status == 403


def test_delete_answers(core, apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    status = apps.delete_namespaced_deployment("web", namespace)
    assert status["kind"] == "Status" and status["status"] == "Success"
    core.create_namespaced_service(namespace, {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    deleted = core.delete_namespaced_service("svc", namespace)
    assert isinstance(deleted, client.V1Service) and deleted.metadata.name == "svc"
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_service("svc", namespace)
    assert caught.value.status == 404


def test_delete_collection(core, namespace):
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": name, "labels": {"group": "x" if name != "c" else "y"}}}
        )
    core.delete_collection_namespaced_config_map(namespace, label_selector="group=x")
    names = [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items]
    assert "a" not in names and "b" not in names and "c" in names


def test_dry_run_stores_nothing(core, apps, namespace, emulator):
    created = apps.create_namespaced_deployment(namespace, deployment("web"), dry_run="All")
    assert created.metadata.uid and created.metadata.name == "web"
    assert emulator.objects("deployments", namespace) == []
    apps.create_namespaced_deployment(namespace, deployment("web"))
    rv = apps.read_namespaced_deployment("web", namespace).metadata.resource_version
    patched = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 5}}, dry_run="All")
    assert patched.spec.replicas == 5
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1
    apps.delete_namespaced_deployment("web", namespace, dry_run="All")
    assert apps.read_namespaced_deployment("web", namespace).metadata.resource_version == rv
    with pytest.raises(ApiException) as caught:  # dry runs are validated like real writes
        apps.create_namespaced_deployment(namespace, deployment("Bad_Name"), dry_run="All")
    assert caught.value.status == 422
    records = [r for r in emulator.requests if r.is_write and r.resource == "deployments"]
    assert [r.dry_run for r in records] == [True, False, True, True, True]
