"""Registration, heartbeats and the operators' worker API."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workers.models import NodeEvent, WorkerNode

pytestmark = pytest.mark.django_db

JOIN = "test-join-token-0123456789"
NODE = {
    "name": "worker-1",
    "hostname": "worker-1.internal",
    "ip_address": "10.0.0.11",
    "capacity": {"cpu_millicores": 4000, "memory_mb": 8192, "pods": 110},
    "labels": {"zone": "a"},
    "kubelet_version": "v1.33.0",
}
BEAT = {"status": "READY", "usage": {"cpu_percent": 12.5, "memory_percent": 40.0, "pods_running": 3}}


def register(client, body=NODE, token=JOIN):
    return client.post("/api/v1/workers/register", body, format="json", HTTP_X_WORKER_TOKEN=token)


def beat(client, token, body=BEAT):
    return client.post("/api/v1/workers/heartbeat", body, format="json", HTTP_X_WORKER_TOKEN=token)


def test_a_new_node_registers_and_gets_its_token_once(api_client):
    response = register(api_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "token", "heartbeat_interval"} and body["name"] == "worker-1"
    node = WorkerNode.objects.get()
    assert node.status == "READY" and node.allocatable_cpu_millicores == 4000
    assert body["token"] not in node.token_hash and len(node.token_hash) == 64  # stored hashed


def test_registering_again_by_name_is_200_with_a_new_token(api_client):
    first = register(api_client).json()
    again = register(api_client)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert again.json()["token"] != first["token"]
    assert beat(api_client, first["token"]).status_code == 401  # the old one no longer works
    assert WorkerNode.objects.count() == 1


@pytest.mark.parametrize("token", [None, "", "wrong", JOIN + "x"])
def test_a_wrong_join_token_is_401_and_registers_nothing(api_client, token):
    headers = {} if token is None else {"HTTP_X_WORKER_TOKEN": token}
    response = api_client.post("/api/v1/workers/register", NODE, format="json", **headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert not WorkerNode.objects.exists()


def test_registration_is_refused_when_no_join_token_is_configured(api_client, settings):
    settings.WORKER_JOIN_TOKEN = ""
    assert register(api_client, token="").status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Worker_1"}, "name"),
        ({"name": "x" * 254}, "name"),
        ({"ip_address": "300.1.1.1"}, "ip_address"),
        ({"capacity": {"cpu_millicores": -1, "memory_mb": 1, "pods": 1}}, "capacity"),
        ({"capacity": {"cpu_millicores": "lots", "memory_mb": 1, "pods": 1}}, "capacity"),
        ({"labels": ["a"]}, "labels"),
        ({"labels": {"a": {"b": 1}}}, "labels"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_registrations_are_400(api_client, change, field):
    response = register(api_client, {**NODE, **change})
    assert response.status_code == 400 and field in response.json()["error"]["details"]
    assert not WorkerNode.objects.exists()


def test_a_heartbeat_records_the_report_with_one_query(api_client):
    token = register(api_client).json()["token"]
    with CaptureQueriesContext(connection) as queries:
        response = beat(api_client, token)
    assert response.status_code == 200 and response.json() == {"heartbeat_interval": 10}
    node = WorkerNode.objects.get()
    assert (node.cpu_percent, node.memory_percent, node.pods_running) == (12.5, 40.0, 3)
    # One UPDATE, by primary key and token hash: nothing else on the hot path.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]


@pytest.mark.parametrize("token", [None, "", "wn_nothing", f"wn_{uuid.uuid4().hex}_guess", "x" * 500])
def test_a_wrong_node_token_is_401(api_client, token):
    register(api_client)
    headers = {} if token is None else {"HTTP_X_WORKER_TOKEN": token}
    response = api_client.post("/api/v1/workers/heartbeat", BEAT, format="json", **headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_unknown_heartbeat_fields_are_ignored_bad_values_are_400(api_client):
    token = register(api_client).json()["token"]
    newer = {**BEAT, "usage": {**BEAT["usage"], "gpu_percent": 3}, "agent_version": "9.9"}
    assert beat(api_client, token, newer).status_code == 200
    for bad in (
        {**BEAT, "status": "HAPPY"},
        {**BEAT, "usage": {**BEAT["usage"], "cpu_percent": 250}},
        {**BEAT, "usage": {**BEAT["usage"], "pods_running": -1}},
        {"status": "READY"},
        [],
    ):
        response = beat(api_client, token, bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] in ("validation_error", "bad_request")


def test_a_node_coming_back_is_recorded(api_client):
    token = register(api_client).json()["token"]
    WorkerNode.objects.update(status="OFFLINE")
    beat(api_client, token)
    event = NodeEvent.objects.filter(reason="StatusReported").get()
    assert (event.from_status, event.to_status) == ("OFFLINE", "READY")


def test_operators_manage_nodes_by_id_or_name(admin_client, api_client, user_client):
    by_hand = {k: v for k, v in NODE.items() if k != "kubelet_version"}  # the agent reports that one
    created = admin_client.post("/api/v1/admin/workers", by_hand, format="json")
    assert created.status_code == 201 and created.json()["token"].startswith("wn_")
    node_id = created.json()["id"]
    assert beat(api_client, created.json()["token"]).status_code == 200
    listed = admin_client.get("/api/v1/admin/workers").json()["results"]
    assert [n["name"] for n in listed] == ["worker-1"] and listed[0]["instances_count"] == 0
    assert admin_client.get(f"/api/v1/admin/workers/{node_id}").json()["name"] == "worker-1"
    assert admin_client.post("/api/v1/admin/workers/worker-1/cordon").json()["cordoned"] is True
    assert admin_client.post("/api/v1/admin/workers/worker-1/uncordon").json()["cordoned"] is False
    patched = admin_client.patch("/api/v1/admin/workers/worker-1", {"labels": {"zone": "b"}}, format="json")
    assert patched.json()["labels"] == {"zone": "b"}
    new = admin_client.post("/api/v1/admin/workers/worker-1/rotate-token").json()["token"]
    assert beat(api_client, created.json()["token"]).status_code == 401 and beat(api_client, new).status_code == 200
    assert admin_client.get("/api/v1/admin/workers/headroom").json()["nodes"] == 1
    assert admin_client.get("/api/v1/admin/workers/no-such").status_code == 404
    assert admin_client.post("/api/v1/admin/workers", by_hand, format="json").status_code == 400  # name taken
    assert admin_client.delete("/api/v1/admin/workers/worker-1").status_code == 204
    assert beat(api_client, new).status_code == 401
    assert user_client.get("/api/v1/admin/workers").status_code == 403
