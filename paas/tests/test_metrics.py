"""/metrics carries every business metric the alerts and the dashboard use, with true values."""

import re
from pathlib import Path

import pytest

from paas.metrics import METRIC_NAMES
from pods import services as pods
from subscriptions.tests.factories import buy

pytestmark = pytest.mark.django_db

RECONCILE_NAMES = ("paas_reconcile_duration_seconds_bucket", "paas_reconcile_cluster_errors_total")


def _scrape(client) -> dict[str, list[str]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, list[str]] = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            samples.setdefault(re.split(r"[{ ]", line, maxsplit=1)[0], []).append(line)
    return samples


def test_every_business_metric_is_exported_with_true_values(client, user, cluster):
    subscription = buy(user)
    pods.reconcile(subscription.instance_id)
    samples = _scrape(client)
    missing = [name for name in (*METRIC_NAMES, *RECONCILE_NAMES) if name not in samples]
    assert missing == []
    assert 'paas_subscriptions{status="ACTIVE"} 1.0' in samples["paas_subscriptions"]
    assert 'paas_instances{status="PROVISIONING"} 1.0' in samples["paas_instances"]
    assert samples["paas_charge_amount_idr_total"] == [
        f"paas_charge_amount_idr_total {float(subscription.plan.price_monthly)}"
    ]
    assert 'paas_nodes{status="READY"} 3.0' in samples["paas_nodes"]


def test_every_metric_the_alerts_and_the_dashboard_use_is_exported():
    monitoring = Path(__file__).resolve().parents[2] / "k8s" / "monitoring"
    used = set()
    for path in monitoring.rglob("*"):
        if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
            used |= set(re.findall(r"\bpaas_[a-z_]+\b", path.read_text()))
    exported = set(METRIC_NAMES) | {
        "paas_reconcile_duration_seconds_bucket",
        "paas_reconcile_duration_seconds_count",
        "paas_reconcile_duration_seconds_sum",
        "paas_reconcile_cluster_errors_total",
    }
    assert used, "no monitoring files found"
    assert used <= exported, used - exported


def test_registering_the_collector_queries_nothing(django_assert_num_queries):
    # Processes register it at start, before migrations have run on a new database.
    from prometheus_client import CollectorRegistry

    from paas.metrics import BusinessCollector

    with django_assert_num_queries(0):
        CollectorRegistry().register(BusinessCollector())
