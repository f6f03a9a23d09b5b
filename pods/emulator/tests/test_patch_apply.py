"""PATCH in its four formats: strategic merge, JSON merge, JSON Patch and server-side apply."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from .helpers import deployment, status_of

APPLY = "application/apply-patch+yaml"


def _container(d):
    return d.spec.template.spec.containers[0]


def test_strategic_merge_merges_lists_by_key(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}}
    patched = apps.patch_namespaced_deployment("web", namespace, patch)
    c = _container(patched)
    assert c.image == "nginx:1.28"
    assert [p.container_port for p in c.ports] == [8080]  # not dropped
    assert c.resources.requests["cpu"] == "100m"

    env = {"spec": {"template": {"spec": {"containers": [{"name": "web", "env": [{"name": "EXTRA", "value": "1"}]}]}}}}
    c = _container(apps.patch_namespaced_deployment("web", namespace, env))
    assert [e.name for e in c.env] == ["MODE", "EXTRA"]

    delete = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "env": [{"name": "MODE", "$patch": "delete"}]}]}}}
    }
    c = _container(apps.patch_namespaced_deployment("web", namespace, delete))
    assert [e.name for e in c.env] == ["EXTRA"]


def test_merge_patch_replaces_lists(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    patch = {"metadata": {"labels": {"tier": "front"}}}
    patched = apps.patch_namespaced_deployment("web", namespace, patch, _content_type="application/merge-patch+json")
    assert patched.metadata.labels["tier"] == "front"
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.29"}]}}}}
    patched = apps.patch_namespaced_deployment("web", namespace, patch, _content_type="application/merge-patch+json")
    assert _container(patched).ports is None  # a merge patch replaces the whole list


def test_json_patch(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web"))
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/team", "value": "a"},
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "web"},
    ]
    patched = apps.patch_namespaced_deployment("web", namespace, ops)
    assert patched.spec.replicas == 3 and patched.metadata.labels["team"] == "a"
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", namespace, [{"op": "test", "path": "/spec/replicas", "value": 9}])
    assert caught.value.status == 422


def test_apply_creates_then_updates(apps, namespace):
    manifest = deployment("web")
    created = apps.patch_namespaced_deployment(
        "web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True
    )
    assert created.metadata.generation == 1
    managers = {(m.manager, m.operation) for m in created.metadata.managed_fields}
    assert ("paas", "Apply") in managers
    entry = next(m for m in created.metadata.managed_fields if m.manager == "paas")
    assert entry.fields_type == "FieldsV1" and "f:spec" in entry.fields_v1

    manifest["spec"]["replicas"] = 2
    updated = apps.patch_namespaced_deployment(
        "web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True
    )
    assert updated.spec.replicas == 2 and updated.metadata.generation == 2
    again = apps.patch_namespaced_deployment(
        "web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True
    )
    assert again.metadata.resource_version == updated.metadata.resource_version  # nothing changed


def test_apply_prunes_what_the_manager_stopped_applying(apps, core, namespace):
    manifest = deployment("web")
    manifest["metadata"]["annotations"] = {"paas/owner": "x", "paas/note": "drop me"}
    manifest["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "OLD", "value": "1"})
    apps.patch_namespaced_deployment("web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True)

    del manifest["metadata"]["annotations"]["paas/note"]
    manifest["spec"]["template"]["spec"]["containers"][0]["env"].pop()
    pruned = apps.patch_namespaced_deployment(
        "web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True
    )
    assert pruned.metadata.annotations == {"paas/owner": "x"}
    assert [e.name for e in _container(pruned).env] == ["MODE"]


def test_fields_of_another_manager_survive_an_apply(apps, namespace):
    manifest = deployment("web")
    apps.patch_namespaced_deployment("web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True)
    restart = {
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}}
        }
    }
    apps.patch_namespaced_deployment("web", namespace, restart, field_manager="kubectl-rollout")

    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    applied = apps.patch_namespaced_deployment(
        "web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True
    )
    assert applied.spec.template.metadata.annotations == {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
    assert _container(applied).image == "nginx:1.28"
    managers = {m.manager for m in applied.metadata.managed_fields}
    assert managers == {"paas", "kubectl-rollout"}


def test_apply_conflicts_with_another_manager_unless_forced(apps, namespace):
    manifest = deployment("web")
    apps.patch_namespaced_deployment("web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True)
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 4}}, field_manager="autoscaler")
    manifest["spec"]["replicas"] = 1
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", namespace, manifest, _content_type=APPLY, field_manager="paas")
    assert caught.value.status == 409
    body = status_of(caught.value)
    assert body["reason"] == "Conflict" and 'conflict with "autoscaler"' in body["message"]
    assert body["details"]["causes"][0]["field"] == ".spec.replicas"
    forced = apps.patch_namespaced_deployment(
        "web", namespace, manifest, _content_type=APPLY, field_manager="paas", force=True
    )
    assert forced.spec.replicas == 1


def test_apply_requires_a_field_manager(apps, namespace):
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", namespace, deployment("web"), _content_type=APPLY)
    assert caught.value.status == 400
    assert "fieldManager" in status_of(caught.value)["message"]


def test_apply_with_a_yaml_body(server, namespace, emulator):
    from .helpers import raw_request

    yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  key: value\n"
    status, _, body = raw_request(
        server,
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/from-yaml?fieldManager=kubectl",
        yaml_body,
        content_type=APPLY,
    )
    assert status == 201 and body["data"] == {"key": "value"}
    assert emulator.get("configmaps", namespace, "from-yaml")["data"] == {"key": "value"}
