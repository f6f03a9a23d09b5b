"""Fault injection, the request log and the HTTP control API."""

from __future__ import annotations

import time

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from pods.emulator import FaultRule

from .helpers import deployment, raw_request, status_of


@pytest.mark.parametrize(
    ("code", "reason"),
    [(500, "InternalError"), (503, "ServiceUnavailable"), (409, "Conflict"), (429, "TooManyRequests")],
)
def test_status_faults(apps, namespace, emulator, code, reason):
    emulator.add_fault(
        verb="create", resource="deployments", status=code, retry_after=2 if code == 429 else None, times=1
    )
    with pytest.raises(ApiException) as caught:
        apps.create_namespaced_deployment(namespace, deployment("web"))
    assert caught.value.status == code
    body = status_of(caught.value)
    assert body["kind"] == "Status" and body["reason"] == reason and body["code"] == code
    if code == 429:
        assert caught.value.headers["Retry-After"] == "2"
        assert body["details"]["retryAfterSeconds"] == 2
    assert emulator.objects("deployments", namespace) == []  # the write did not land
    apps.create_namespaced_deployment(namespace, deployment("web"))  # the budget is spent


def test_rules_match_precisely(core, apps, namespace, emulator):
    emulator.add_fault(verb="get", resource="pods/log", status=500)
    emulator.add_fault(verb="patch", resource="deployments", namespace="elsewhere", status=500)
    emulator.add_fault(verb="list", group="apps", resource="deployments", name="nothing", status=500)
    apps.create_namespaced_deployment(namespace, deployment("web"))
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 2}})
    apps.list_namespaced_deployment(namespace)
    emulator.tick()
    pod = core.list_namespaced_pod(namespace).items[0].metadata.name
    core.read_namespaced_pod(pod, namespace)
    with pytest.raises(ApiException):
        core.read_namespaced_pod_log(pod, namespace)
    emulator.clear_faults()
    assert core.read_namespaced_pod_log(pod, namespace)


def test_delay(apps, namespace, emulator):
    emulator.add_fault(verb="list", resource="deployments", delay=0.3, times=1)
    started = time.monotonic()
    apps.list_namespaced_deployment(namespace)
    assert time.monotonic() - started >= 0.3


def test_hang_trips_the_client_read_timeout(apps, namespace, emulator):
    # Until cleared: urllib3 retries an idempotent GET after a read timeout, and must time out again.
    rule = emulator.add_fault(verb="get", resource="deployments", hang=True)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.HTTPError) as caught:
        apps.read_namespaced_deployment("web", namespace, _request_timeout=(1, 0.3))
    error = caught.value
    assert isinstance(getattr(error, "reason", error), urllib3.exceptions.ReadTimeoutError)
    assert rule.hits >= 1 and time.monotonic() - started < 5
    emulator.clear_faults()  # wakes the hanging request threads


def test_drop_closes_the_connection(apps, namespace, emulator):
    emulator.add_fault(verb="create", resource="deployments", drop=True, times=1)
    with pytest.raises(urllib3.exceptions.HTTPError):
        apps.create_namespaced_deployment(namespace, deployment("web"))
    assert emulator.objects("deployments", namespace) == []


def test_after_lets_the_write_land_but_loses_the_answer(apps, namespace, emulator):
    emulator.add_fault(FaultRule(verb="create", resource="deployments", status=504, after=True, times=1))
    with pytest.raises(ApiException) as caught:
        apps.create_namespaced_deployment(namespace, deployment("web"))
    assert caught.value.status == 504 and status_of(caught.value)["reason"] == "Timeout"
    assert [d["metadata"]["name"] for d in emulator.objects("deployments", namespace)] == ["web"]


def test_unlimited_rules_until_cleared(core, namespace, emulator):
    rule = emulator.add_fault(verb="list", resource="secrets", status=503)
    for _ in range(3):
        with pytest.raises(ApiException):
            core.list_namespaced_secret(namespace)
    assert rule.hits == 3
    emulator.faults.remove(rule.id)
    core.list_namespaced_secret(namespace)


def test_rule_validation():
    with pytest.raises(ValueError):
        FaultRule(verb="get")
    with pytest.raises(ValueError):
        FaultRule(status=500, drop=True)


def test_request_log(core, apps, namespace, emulator):
    emulator.requests.clear()
    apps.create_namespaced_deployment(namespace, deployment("web"), field_manager="paas")
    apps.read_namespaced_deployment("web", namespace)
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 2}}, dry_run="All")
    core.list_pod_for_all_namespaces(label_selector="a=b")
    apps.delete_namespaced_deployment("web", namespace)
    with pytest.raises(ApiException):
        apps.delete_namespaced_deployment("web", namespace)
    records = emulator.requests.records()
    assert [(r.verb, r.status) for r in records] == [
        ("create", 201),
        ("get", 200),
        ("patch", 200),
        ("list", 200),
        ("delete", 200),
        ("delete", 404),
    ]
    create = records[0]
    assert (create.group, create.version, create.resource, create.namespace) == ("apps", "v1", "deployments", namespace)
    assert create.field_manager == "paas" and create.body["metadata"]["name"] == "web"
    assert create.content_type in ("", "application/json") and create.is_write
    assert records[2].dry_run and records[2].content_type == "application/strategic-merge-patch+json"
    assert records[3].query == {"labelSelector": "a=b"} and records[3].namespace == "" and not records[3].is_write
    assert [r.verb for r in emulator.requests.writes()] == ["create", "patch", "delete", "delete"]
    assert all(w.namespace == namespace for w in emulator.requests.writes())


def test_control_api(server, core, apps, namespace, emulator):
    status, _, rule = raw_request(
        server, "POST", "/_emulator/faults", {"verb": "list", "resource": "pods", "status": 500, "times": 1}
    )
    assert status == 201 and rule["times"] == 1
    assert raw_request(server, "GET", "/_emulator/faults")[2]["items"][0]["id"] == rule["id"]
    with pytest.raises(ApiException):
        core.list_namespaced_pod(namespace)
    raw_request(server, "POST", "/_emulator/faults", {"verb": "list", "resource": "pods", "status": 500})
    assert raw_request(server, "DELETE", "/_emulator/faults")[0] == 200
    core.list_namespaced_pod(namespace)

    log = raw_request(server, "GET", "/_emulator/requests?writes=true")[2]["items"]
    assert [(r["verb"], r["resource"]) for r in log] == [("create", "namespaces")]
    raw_request(server, "DELETE", "/_emulator/requests")
    assert raw_request(server, "GET", "/_emulator/requests")[2]["items"] == []

    raw_request(server, "PUT", "/_emulator/ready-delay", {"seconds": 7})
    settings = raw_request(server, "PUT", "/_emulator/image-patterns", {"pullFail": "broken", "crash": None})[2]
    assert (
        settings["readyDelay"] == 7
        and settings["imagePullFailPattern"] == "broken"
        and settings["crashPattern"] is None
    )

    node = raw_request(server, "POST", "/_emulator/nodes/emulator-node-2/not-ready")[2]
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "Unknown"
    raw_request(server, "POST", "/_emulator/nodes/emulator-node-2/ready")
    assert raw_request(server, "POST", "/_emulator/nodes/nowhere/ready")[0] == 404

    raw_request(server, "POST", "/_emulator/access/deny", {"verb": "delete", "resource": "namespaces"})
    assert raw_request(server, "GET", "/_emulator/access")[2]["items"][0]["verb"] == "delete"

    apps.create_namespaced_deployment(namespace, deployment("web"))
    assert raw_request(server, "POST", "/_emulator/tick")[2]["synced"] > 0
    objects = raw_request(server, "GET", f"/_emulator/objects/pods?namespace={namespace}")[2]["items"]
    assert len(objects) == 1
    assert raw_request(server, "POST", "/_emulator/reset")[0] == 200
    assert emulator.objects("deployments") == [] and len(emulator.objects("nodes")) == 3
    assert raw_request(server, "GET", "/_emulator/settings", token=None)[0] == 401
    assert raw_request(server, "GET", "/_emulator/nothing")[0] == 404
