"""Label and field selectors, cluster-wide lists, pagination, and the raw shape of lists."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from pods.emulator import Emulator, EmulatorServer

from .helpers import deployment, raw_request, status_of


@pytest.fixture
def config_maps(core, namespace):
    core.create_namespace({"metadata": {"name": "team-b"}})
    specs = [
        ("team-a", "a1", {"app": "web", "tier": "front", "env": "prod"}),
        ("team-a", "a2", {"app": "web", "tier": "back"}),
        ("team-a", "a3", {"app": "db", "env": "prod"}),
        ("team-b", "b1", {"app": "web", "tier": "front"}),
        ("team-b", "b2", {"app": "cache"}),
    ]
    for ns, name, labels in specs:
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})
    return specs


def _names(result) -> list[str]:
    return [item.metadata.name for item in result.items]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["a1", "a2", "b1"]),
        ("app==web,tier=front", ["a1", "b1"]),
        ("app!=web", ["a3", "b2"]),
        ("app in (db,cache)", ["a3", "b2"]),
        ("app notin (web, db)", ["b2"]),
        ("env", ["a1", "a3"]),
        ("!env,app", ["a2", "b1", "b2"]),
        ("app=web,!tier", []),
    ],
)
def test_label_selectors(core, config_maps, selector, expected):
    listed = core.list_config_map_for_all_namespaces(label_selector=selector)
    assert [n for n in _names(listed) if n != "kube-root-ca.crt"] == expected


def test_namespaced_list_only_sees_its_namespace(core, config_maps):
    assert _names(core.list_namespaced_config_map("team-b", label_selector="app")) == ["b1", "b2"]


def test_bad_selectors_are_bad_requests(core, config_maps):
    for kwargs in ({"label_selector": "app in web"}, {"label_selector": "a b c"}, {"field_selector": "spec.nothing=1"}):
        with pytest.raises(ApiException) as caught:
            core.list_namespaced_config_map("team-a", **kwargs)
        assert caught.value.status == 400
        assert status_of(caught.value)["reason"] == "BadRequest"


def test_field_selectors(core, apps, config_maps, emulator):
    assert _names(core.list_config_map_for_all_namespaces(field_selector="metadata.name=a2")) == ["a2"]
    in_b = core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=team-b,metadata.name!=b1")
    assert [n for n in _names(in_b) if n != "kube-root-ca.crt"] == ["b2"]
    apps.create_namespaced_deployment("team-a", deployment("web", replicas=2))
    emulator.tick()
    running = core.list_namespaced_pod("team-a", field_selector="status.phase=Running")
    assert len(running.items) == 2
    node = running.items[0].spec.node_name
    on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}")
    assert running.items[0].metadata.name in _names(on_node)
    events = core.list_namespaced_event("team-a", field_selector="involvedObject.kind=Pod,reason=Scheduled")
    assert len(events.items) == 2 and all(e.type == "Normal" for e in events.items)


def test_pagination(core, namespace):
    for i in range(7):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{i}", "labels": {"page": "yes"}}})
    total = len(core.list_namespaced_config_map(namespace).items)
    seen, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=token)
        seen += _names(page)
        pages += 1
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == total - len(seen)
    assert pages == 3 and seen == sorted(seen) and len(seen) == total
    selected = core.list_namespaced_config_map(namespace, label_selector="page=yes", limit=5)
    assert len(selected.items) == 5 and selected.metadata._continue and selected.metadata.remaining_item_count is None
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(namespace, limit=3, _continue="not-a-token")
    assert caught.value.status == 400


def test_raw_list_shape(core, config_maps):
    raw = core.list_namespaced_config_map("team-a", _preload_content=False)
    doc = json.loads(raw.data)
    assert doc["kind"] == "ConfigMapList" and doc["apiVersion"] == "v1"
    assert int(doc["metadata"]["resourceVersion"]) > 0
    assert all("kind" not in item and "apiVersion" not in item for item in doc["items"])


# --- expired continue tokens -------------------------------------------------------------------

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter"
)


@pytest.fixture
def many_config_maps(core, namespace):
    for i in range(5):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{i}"}})
    return namespace


def test_continue_tokens_never_expire_by_default(core, clock, many_config_maps):
    first = core.list_namespaced_config_map(many_config_maps, limit=2)
    clock.advance(86400)
    second = core.list_namespaced_config_map(many_config_maps, limit=2, _continue=first.metadata._continue)
    assert _names(second) == ["cm-2", "cm-3"]


def test_a_ttl_of_zero_expires_every_next_page(core, emulator, many_config_maps):
    emulator.set_continue_token_ttl(0)
    first = core.list_namespaced_config_map(many_config_maps, limit=2)
    assert _names(first) == ["cm-0", "cm-1"] and first.metadata._continue
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(many_config_maps, limit=2, _continue=first.metadata._continue)
    assert caught.value.status == 410
    body = status_of(caught.value)
    assert body["reason"] == "Expired" and body["code"] == 410 and body["status"] == "Failure"
    assert body["message"].startswith(EXPIRED_MESSAGE)
    # As a real server does, the answer carries a token that goes on from the latest state.
    everything = _names(core.list_namespaced_config_map(many_config_maps))
    rest = core.list_namespaced_config_map(many_config_maps, _continue=body["metadata"]["continue"])
    assert _names(first) + _names(rest) == everything


def test_continue_token_ttl_over_the_control_api(core, server, clock, many_config_maps):
    status, _, settings = raw_request(server, "GET", "/_emulator/settings")
    assert status == 200 and settings["continueTokenTtl"] is None
    status, _, settings = raw_request(server, "PUT", "/_emulator/continue-token-ttl", {"seconds": 300})
    assert status == 200 and settings["continueTokenTtl"] == 300
    first = core.list_namespaced_config_map(many_config_maps, limit=2)
    clock.advance(299)
    second = core.list_namespaced_config_map(many_config_maps, limit=2, _continue=first.metadata._continue)
    assert _names(second) == ["cm-2", "cm-3"]
    clock.advance(300)
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(many_config_maps, limit=2, _continue=second.metadata._continue)
    assert caught.value.status == 410 and status_of(caught.value)["reason"] == "Expired"
    status, _, settings = raw_request(server, "PUT", "/_emulator/continue-token-ttl", {"seconds": None})
    assert settings["continueTokenTtl"] is None
    assert _names(core.list_namespaced_config_map(many_config_maps, limit=2, _continue=second.metadata._continue))
    assert raw_request(server, "PUT", "/_emulator/continue-token-ttl", {"seconds": -1})[0] == 400


def test_continue_token_ttl_from_the_constructor(clock, tmp_path):
    emulator = Emulator(continue_token_ttl=0, clock=clock, ready_delay=0)
    server = EmulatorServer(emulator).start()
    try:
        configuration = client.Configuration()
        config.load_kube_config(
            str(server.write_kubeconfig(tmp_path / "kubeconfig")), client_configuration=configuration
        )
        with client.ApiClient(configuration) as api:
            core = client.CoreV1Api(api)
            page = core.list_config_map_for_all_namespaces(limit=1)
            assert page.metadata._continue
            with pytest.raises(ApiException) as caught:
                core.list_config_map_for_all_namespaces(limit=1, _continue=page.metadata._continue)
            assert caught.value.status == 410 and status_of(caught.value)["reason"] == "Expired"
    finally:
        server.stop()
