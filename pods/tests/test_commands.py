"""The operators' commands: reconcile, cluster_check, create_instance."""

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from pods.cluster.permissions import PERMISSIONS
from pods.models import ServiceInstance

from .factories import make_instance, seeded_plan

pytestmark = pytest.mark.django_db


def _call(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_reconcile_one_instance_prints_what_it_changed(cluster, user):
    instance = make_instance(user)
    output = _call("reconcile", "--instance", str(instance.pk))
    assert "created Deployment" in output and "PROVISIONING" in output
    assert "1/1" in output  # the progress bar


def test_the_dry_run_prints_and_changes_nothing(cluster, user):
    instance = make_instance(user)
    output = _call("reconcile", "--all", "--dry-run")
    assert "created Deployment" in output and "would change" in output
    assert cluster.requests.writes() == []
    instance.refresh_from_db()
    assert instance.status == "PENDING"


def test_the_sweep_mode_reconciles_only_what_differs(cluster, user):
    a, b = make_instance(user), make_instance(user, service="ghost")
    _call("reconcile", "--all")
    cluster.tick()
    _call("reconcile")
    assert set(ServiceInstance.objects.values_list("status", flat=True)) == {"RUNNING"}
    assert "Every instance is in line" in _call("reconcile")
    assert a.namespace == b.namespace


def test_reconcile_refuses_an_unknown_instance(cluster):
    with pytest.raises(CommandError, match="No live instance"):
        _call("reconcile", "--instance", "not-an-id")


def test_reconcile_without_a_cluster_says_how_to_get_one(settings, tmp_path):
    settings.PAAS_CLUSTER_BACKEND = "simulated"
    settings.PAAS_EMULATOR_KUBECONFIG = str(tmp_path / "missing")
    with pytest.raises(CommandError, match="make run"):
        _call("reconcile")


def test_cluster_check_lists_every_permission(cluster):
    output = _call("cluster_check")
    assert "version:   v1.33" in output
    assert "ok       create namespaces" in output and "ok       get pods/log" in output
    assert "every permission" in output


def test_cluster_check_names_what_is_missing(cluster):
    cluster.deny("delete", "secrets")
    with pytest.raises(CommandError, match="1 permission"):
        _call("cluster_check")


def test_the_permissions_are_exactly_the_shipped_cluster_role():
    docs = list(yaml.safe_load_all(Path("k8s/rbac.yaml").read_text()))
    role = next(d for d in docs if d and d["kind"] == "ClusterRole")
    granted = {
        (g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]
    }
    needed = {(p.group, p.resource, v) for p in PERMISSIONS for v in p.verbs}
    assert granted == needed


def test_create_instance_for_a_customer(cluster, user):
    seeded_plan()
    output = _call("create_instance", user.email, "n8n", "--plan", "starter", "--name", "Ops flows")
    instance = ServiceInstance.objects.get(owner=user)
    assert instance.name == "Ops flows" and str(instance.pk) in output
    with pytest.raises(CommandError, match=r"config\.timezone"):
        _call("create_instance", user.email, "n8n", "--plan", "starter", "--config", '{"timezone": "Mars/Base"}')
    with pytest.raises(CommandError, match="No plan"):
        _call("create_instance", user.email, "n8n", "--plan", "platinum")
