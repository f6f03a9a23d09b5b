"""The monitoring set-up in k8s/monitoring: the alert rules, their unit tests and the Prometheus
configuration pass promtool; every alert is well formed, fires in a unit test and has a runbook
section; the PrometheusRule carries the same rules; the Grafana dashboard's queries are PromQL.

promtool is Debian's `prometheus` package (.ci/services.sh installs it).
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from paas.metrics import METRIC_NAMES

MONITORING = Path(settings.BASE_DIR) / "k8s" / "monitoring"
OPERATIONS = Path(settings.BASE_DIR) / "docs" / "operations.md"
ALERTS = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
RULES = [rule for group in ALERTS["groups"] for rule in group["rules"]]
DASHBOARD = json.loads((MONITORING / "grafana-dashboard.json").read_text())
# Grafana's own variables, replaced by a plausible value so promtool can parse the queries.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d"}


def promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: install Debian's prometheus package (.ci/services.sh does)"
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


# --- promtool ---------------------------------------------------------------------------------
def test_the_alert_rules_pass_promtool_check():
    _ok(promtool("check", "rules", "alerts.yaml"))


def test_the_alert_unit_tests_pass():
    result = promtool("test", "rules", "alerts.test.yaml")
    _ok(result)
    assert "SUCCESS" in result.stdout


def test_the_prometheus_configuration_passes_promtool_check():
    result = promtool("check", "config", "prometheus.yml")
    _ok(result)
    assert "1 rule files found" in result.stdout + result.stderr, "prometheus.yml loads alerts.yaml"


def test_promtool_notices_a_broken_rule(tmp_path):
    """The checks above would catch a mistake: a rule with a typo fails."""
    broken = {"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "max(paas_nodes{status=)", "for": "1m"}]}]}
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    assert promtool("check", "rules", "broken.yaml", cwd=tmp_path).returncode != 0


# --- the alerts -------------------------------------------------------------------------------
def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("rule", RULES, ids=[r["alert"] for r in RULES])
def test_every_alert_waits_is_graded_and_explains_itself(rule):
    assert re.fullmatch(r"Paas[A-Z][A-Za-z]+", rule["alert"])
    assert re.fullmatch(r"[0-9]+[smh]", rule["for"])
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert annotations["summary"] and len(annotations["summary"]) < 80
    anchor = rule["alert"].lower()
    assert annotations["runbook_url"] == f"docs/operations.md#{anchor}"
    assert annotations["description"].endswith(f"Runbook: docs/operations.md#{anchor}")
    assert anchor in _anchors(OPERATIONS.read_text()), f"docs/operations.md has no section '### {rule['alert']}'"


def test_every_alert_fires_in_a_unit_test_and_stays_silent_in_another():
    tests = yaml.safe_load((MONITORING / "alerts.test.yaml").read_text())
    assert tests["rule_files"] == ["alerts.yaml"]
    cases = [case for test in tests["tests"] for case in test.get("alert_rule_test", [])]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    names = {rule["alert"] for rule in RULES}
    assert fired == names, names ^ fired
    assert silent == names, names ^ silent


def test_the_alerts_operators_rely_on_exist_and_page_for_money_and_nodes():
    severity = {rule["alert"]: rule["labels"]["severity"] for rule in RULES}
    assert {
        "PaasNodeOffline": "critical",
        "PaasInstanceFailed": "warning",
        "PaasReconcileErrors": "warning",
        "PaasBillingClockLate": "critical",
        "PaasWebhookBacklog": "warning",
        "PaasPaymentNotificationsFailing": "critical",
    }.items() <= severity.items()


def test_the_prometheusrule_carries_exactly_the_rules_of_alerts_yaml():
    (rule,) = [doc for doc in yaml.safe_load_all((MONITORING / "prometheusrule.yaml").read_text()) if doc]
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == ALERTS["groups"]


def test_the_alerts_scrape_jobs_are_the_ones_prometheus_and_the_operator_name():
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yaml"]
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    monitors = [doc for doc in yaml.safe_load_all((MONITORING / "servicemonitor.yaml").read_text()) if doc]
    service_monitor, pod_monitor = monitors
    # A ServiceMonitor's job is its Service's name; the PodMonitor's comes from the pod label.
    assert service_monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] in jobs
    assert pod_monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
    assert pod_monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] in jobs
    for rule in RULES:
        for job in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert job in jobs, rule["alert"]


# --- the dashboard ----------------------------------------------------------------------------
def _panels():
    for panel in DASHBOARD["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _queries() -> list[str]:
    return [target["expr"] for panel in _panels() for target in panel.get("targets", [])]


def test_the_dashboard_uses_its_datasource_variable_everywhere():
    assert 36 <= DASHBOARD["schemaVersion"] <= 41
    (variable,) = [v for v in DASHBOARD["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "prometheus"
    reference = {"type": "prometheus", "uid": f"${{{variable['name']}}}"}
    for panel in _panels():
        if panel["type"] != "row":
            assert panel["datasource"] == reference, panel["title"]
            assert all(target["datasource"] == reference for target in panel["targets"]), panel["title"]


def test_every_dashboard_panel_has_a_query():
    ids = [panel["id"] for panel in _panels()]
    assert len(ids) == len(set(ids))
    for panel in _panels():
        assert panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["expr"].strip() and target["refId"], panel["title"]


def test_every_dashboard_query_is_valid_promql(tmp_path):
    rules = []
    for number, expr in enumerate(_queries()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unknown variable in {expr}"
        rules.append({"record": f"dashboard:query{number}", "expr": expr})
    (tmp_path / "dashboard.yaml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    _ok(promtool("check", "rules", "dashboard.yaml", cwd=tmp_path))


def test_the_dashboard_and_the_alerts_use_only_exported_metrics():
    exported = {
        *METRIC_NAMES,
        "paas_reconcile_duration_seconds_bucket",
        "paas_reconcile_duration_seconds_count",
        "paas_reconcile_duration_seconds_sum",
        "paas_reconcile_cluster_errors_total",
    }
    used = set(re.findall(r"\bpaas_[a-z_]+\b", " ".join([*_queries(), *(rule["expr"] for rule in RULES)])))
    assert used <= exported, used - exported


def test_the_dashboard_shows_every_part_of_the_business():
    used = set(re.findall(r"\bpaas_[a-z_]+\b", " ".join(_queries())))
    reconcile = {
        "paas_reconcile_duration_seconds_bucket",
        "paas_reconcile_duration_seconds_count",
        "paas_reconcile_cluster_errors_total",
    }
    missing = {*METRIC_NAMES, *reconcile} - used
    assert not missing, missing
    # Every web pod exports the business metrics with the same values: adding them up is wrong.
    for expr in _queries():
        if re.search(r"\bsum\b", expr):
            assert re.search(r"paas_reconcile_|\bup\{", expr), expr
