"""What a real API server returns for what we applied still "matches" it; real changes do not."""

import copy

import pytest

from pods.cluster.compare import matches, object_matches
from templates.tests.helpers import by_kind, render


def _as_a_real_server_returns(doc: dict) -> dict:
    """Defaults added, quantities canonical, zero values left out, status and metadata added."""
    live = copy.deepcopy(doc)
    live["metadata"] |= {
        "uid": "u",
        "resourceVersion": "7",
        "annotations": {**doc["metadata"].get("annotations", {}), "deployment.kubernetes.io/revision": "1"},
    }
    live["status"] = {"replicas": 1}
    if doc["kind"] == "Deployment":
        spec = live["spec"]["template"]["spec"]
        spec |= {"dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler"}
        for container in spec["containers"]:
            container["terminationMessagePath"] = "/dev/termination-log"
            container["resources"]["limits"]["memory"] = (
                "1Gi"
                if container["resources"]["limits"]["memory"] == "1024Mi"
                else container["resources"]["limits"]["memory"]
            )
            container["resources"]["limits"]["cpu"] = {"1000m": "1", "500m": "500m"}.get(
                container["resources"]["limits"]["cpu"], container["resources"]["limits"]["cpu"]
            )
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                container[probe].pop("initialDelaySeconds", None)  # 0: omitted
            # An injected sidecar's container and env do not count as drift.
        spec["containers"].append({"name": "istio-proxy", "image": "istio/proxyv2"})
    return live


@pytest.mark.parametrize("kind", ["Deployment", "Service", "Ingress", "NetworkPolicy", "ResourceQuota"])
def test_what_a_server_returns_matches_what_we_applied(kind):
    for doc in by_kind(render("n8n"), kind):
        assert object_matches(doc, _as_a_real_server_returns(doc)), doc["metadata"]["name"]


def test_a_real_change_is_drift():
    [deployment] = by_kind(render("n8n"), "Deployment")
    live = _as_a_real_server_returns(deployment)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "n8nio/n8n:0.1"
    assert not object_matches(deployment, live)
    live = _as_a_real_server_returns(deployment)
    live["spec"]["replicas"] = 3
    assert not object_matches(deployment, live)


def test_quantities_compare_by_value_only_where_they_are_quantities():
    assert matches({"resources": {"limits": {"memory": "1024Mi"}}}, {"resources": {"limits": {"memory": "1Gi"}}})
    assert not matches({"env": [{"name": "N", "value": "1e3"}]}, {"env": [{"name": "N", "value": "1000"}]})
    assert not matches({"resources": {"limits": {"memory": "1024Mi"}}}, {"resources": {"limits": {"memory": "1G"}}})


def test_zero_values_may_be_absent_but_other_values_may_not():
    assert matches({"a": 0, "b": "", "c": [], "d": {}, "e": False}, {})
    assert not matches({"a": 1}, {})
    assert not matches({"a": True}, {})
