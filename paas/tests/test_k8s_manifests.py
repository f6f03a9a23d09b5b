"""The manifests that run this backend in a cluster: every document under k8s/ (the base, the
Secret template, the overlays' renderings, the monitoring component) validates against the
official schemas in strict mode, and the pieces agree with each other (selectors, ports, hosts,
secrets), since no cluster checks them here.

The overlays are rendered in Python (resources, components, images, replicas and JSON patches:
the kustomize features they use, and nothing else is accepted). When kubectl is installed, its
own kustomize must produce exactly the same documents.
"""

import copy
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from django.conf import settings

K8S_DIR = Path(settings.BASE_DIR) / "k8s"
OVERLAYS = ("staging", "production")
# The oldest, a common and the newest schema kubernetes-validate bundles (as the templates' tests).
KUBERNETES_VERSIONS = ("1.25", "1.33", "1.37")
IMAGE = "ghcr.io/example/paas"
# YAML under k8s/ that holds no Kubernetes object: kustomize's own files, and Prometheus' (checked
# with promtool in test_monitoring.py).
NOT_OBJECTS = {"monitoring/prometheus.yml", "monitoring/alerts.yaml", "monitoring/alerts.test.yaml"}


def _load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _base_files() -> set[str]:
    return {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"} - _example_files()


def _example_files() -> set[str]:
    return {p.name for p in K8S_DIR.glob("*.example.yaml")}


def _object_files() -> list[Path]:
    files = []
    for path in sorted([*K8S_DIR.rglob("*.yaml"), *K8S_DIR.rglob("*.yml")]):
        relative = path.relative_to(K8S_DIR).as_posix()
        if path.name != "kustomization.yaml" and relative not in NOT_OBJECTS:
            files.append(path)
    return files


# --- prometheus-operator's kinds ---------------------------------------------------------------
# ServiceMonitor, PodMonitor and PrometheusRule are custom resources: the official Kubernetes
# schemas do not know them, and the operator's CRDs are not vendored here. They are checked
# against these small schemas of our own instead: the fields we use, their types, what the
# operator requires, and no field it would not know (additionalProperties: false).
_DURATION = {"type": "string", "pattern": r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {"matchLabels": _STRINGS, "matchExpressions": {"type": "array"}},
}
_NAMESPACE_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}},
}
_ENDPOINT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["port"],
    "properties": {
        "port": {"type": "string", "minLength": 1},
        "path": {"type": "string", "pattern": "^/"},
        "scheme": {"enum": ["http", "https"]},
        "interval": _DURATION,
        "scrapeTimeout": _DURATION,
        "honorLabels": {"type": "boolean"},
    },
}
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _STRINGS},
}


def _custom_resource(kind: str, spec: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
    }


_RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["expr"],
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
    "properties": {
        "alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "record": {"type": "string"},
        "expr": {"type": "string", "minLength": 1},
        "for": _DURATION,
        "keep_firing_for": _DURATION,
        "labels": _STRINGS,
        "annotations": _STRINGS,
    },
}
CUSTOM_SCHEMAS = {
    "ServiceMonitor": _custom_resource(
        "ServiceMonitor",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "jobLabel": {"type": "string"},
                "selector": _SELECTOR,
                "namespaceSelector": _NAMESPACE_SELECTOR,
                "endpoints": {"type": "array", "minItems": 1, "items": _ENDPOINT},
            },
        },
    ),
    "PodMonitor": _custom_resource(
        "PodMonitor",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "podMetricsEndpoints"],
            "properties": {
                "jobLabel": {"type": "string"},
                "selector": _SELECTOR,
                "namespaceSelector": _NAMESPACE_SELECTOR,
                "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": _ENDPOINT},
            },
        },
    ),
    "PrometheusRule": _custom_resource(
        "PrometheusRule",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["groups"],
            "properties": {
                "groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "interval": _DURATION,
                            "rules": {"type": "array", "minItems": 1, "items": _RULE},
                        },
                    },
                }
            },
        },
    ),
}


def validate(doc: dict) -> None:
    if doc["apiVersion"].startswith("monitoring.coreos.com/"):
        assert doc["kind"] in CUSTOM_SCHEMAS, f"no schema for {doc['kind']}: add one above"
        jsonschema.validate(doc, CUSTOM_SCHEMAS[doc["kind"]])
        return
    for version in KUBERNETES_VERSIONS:
        assert kubernetes_validate.validate(doc, version, strict=True) == version


# --- rendering the overlays -------------------------------------------------------------------
_KUSTOMIZE_KEYS = {"apiVersion", "kind", "resources", "components", "images", "replicas", "patches"}


def render(directory: Path, docs: list[dict] | None = None) -> list[dict]:
    """What kustomize builds from ``directory`` (a Kustomization, or a Component applied to ``docs``)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - _KUSTOMIZE_KEYS
    assert not unknown, f"{directory}: {unknown} is not rendered by this test; teach render() first"
    docs = list(docs or [])
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        docs += render(path) if path.is_dir() else copy.deepcopy(_load(path))
    for entry in kustomization.get("components", []):
        docs = render((directory / entry).resolve(), docs)
    for image in kustomization.get("images", []):
        for container in (c for doc in docs for c in _containers(doc)):
            name = container["image"].rsplit(":", 1)[0] if ":" in container["image"] else container["image"]
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    for replicas in kustomization.get("replicas", []):
        scaled = [d for d in docs if d["metadata"]["name"] == replicas["name"] and "replicas" in d.get("spec", {})]
        assert scaled, f"{directory}: replicas for {replicas['name']} matched nothing"
        for doc in scaled:
            doc["spec"]["replicas"] = replicas["count"]
    for patch in kustomization.get("patches", []):
        target = patch["target"]
        matched = [d for d in docs if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]
        assert matched, f"{directory}: patch target {target} matched nothing"
        operations = yaml.safe_load(patch["patch"])
        assert isinstance(operations, list), "only JSON patches (a list of operations) are rendered here"
        for doc in matched:
            for operation in operations:
                _json_patch(doc, operation)
    return docs


def _json_patch(doc: dict, operation: dict) -> None:
    """One RFC 6902 operation (add, remove, replace, test), in place."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
    node = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = (len(node) if last == "-" else int(last)) if isinstance(node, list) else last
    match operation["op"]:
        case "test":
            assert node[key] == operation["value"], f"{operation['path']} is {node[key]!r}"
        case "replace":
            assert key in node if isinstance(node, dict) else key < len(node), f"no {operation['path']} to replace"
            node[key] = operation["value"]
        case "add" if isinstance(node, list):
            node.insert(key, operation["value"])
        case "add":
            node[key] = operation["value"]
        case "remove":
            del node[key]
        case other:
            raise AssertionError(f"JSON patch op {other!r} is not rendered here")


def _pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return doc["spec"]["template"]["spec"]
    return None


def _containers(doc: dict) -> list[dict]:
    pod = _pod_spec(doc)
    return [*pod.get("initContainers", []), *pod["containers"]] if pod else []


def _by_name(docs: list[dict], kind: str, name: str) -> dict:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _env(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


BASE = render(K8S_DIR)
RENDERED = {name: render(K8S_DIR / "overlays" / name) for name in OVERLAYS}
ALL_RENDERINGS = {"base": BASE, **RENDERED}
DOCUMENTS = [
    pytest.param(doc, id=f"{path.relative_to(K8S_DIR).as_posix()}#{index}-{doc['kind']}")
    for path in _object_files()
    for index, doc in enumerate(_load(path))
]
RENDERED_DOCUMENTS = [
    pytest.param(doc, id=f"{name}:{doc['kind']}/{doc['metadata']['name']}")
    for name, docs in RENDERED.items()
    for doc in docs
]
WORKLOADS = [
    pytest.param(doc, id=f"{name}:{doc['kind']}/{doc['metadata']['name']}")
    for name, docs in ALL_RENDERINGS.items()
    for doc in docs
    if _pod_spec(doc) is not None
]


# --- files ------------------------------------------------------------------------------------
def test_every_manifest_file_is_listed_in_the_kustomization():
    listed = set(yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())["resources"])
    assert listed == _base_files()


def test_the_overlays_list_exactly_the_base_files_and_the_monitoring_component():
    base = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())["resources"]
    for name in OVERLAYS:
        overlay = yaml.safe_load((K8S_DIR / "overlays" / name / "kustomization.yaml").read_text())
        assert overlay["resources"] == [f"../../{entry}" for entry in base], name
        assert overlay["components"] == ["../../monitoring"], name


def test_the_secret_example_is_in_no_kustomization_and_holds_placeholders_only():
    assert _example_files() == {"secret.example.yaml"}
    for kustomization in K8S_DIR.rglob("kustomization.yaml"):
        listed = yaml.safe_load(kustomization.read_text()).get("resources", [])
        assert not [entry for entry in listed if entry.endswith(".example.yaml")], kustomization
    (secret,) = _load(K8S_DIR / "secret.example.yaml")
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "paas-secrets"
    assert all("CHANGE-ME" in value for value in secret["stringData"].values())


def test_every_yaml_file_under_k8s_is_a_manifest_or_a_known_prometheus_file():
    for path in _object_files():
        for doc in _load(path):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), path
    for relative in NOT_OBJECTS:
        assert (K8S_DIR / relative).is_file(), relative


# --- schemas ----------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_manifest_is_valid_in_strict_mode(doc):
    validate(doc)


@pytest.mark.parametrize("doc", RENDERED_DOCUMENTS)
def test_rendered_overlay_document_is_valid_in_strict_mode(doc):
    validate(doc)


def test_the_custom_schemas_refuse_what_the_operator_would():
    (service_monitor, _) = _load(K8S_DIR / "monitoring" / "servicemonitor.yaml")
    for broken in (
        {**service_monitor, "spec": {**service_monitor["spec"], "endpoints": []}},
        {**service_monitor, "spec": {**service_monitor["spec"], "endpoint": service_monitor["spec"]["endpoints"]}},
        {**service_monitor, "spec": {**service_monitor["spec"], "endpoints": [{"port": "http", "interval": "30 s"}]}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its kustomize) is not installed")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_python_rendering_is_what_kustomize_builds(overlay):
    built = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(K8S_DIR / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    def key(doc):
        return (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])

    ours = {key(d): d for d in RENDERED[overlay]}
    theirs = {key(d): d for d in yaml.safe_load_all(built) if d}
    assert ours.keys() == theirs.keys()
    for name, doc in ours.items():
        assert doc == theirs[name], name


# --- workloads --------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", WORKLOADS)
def test_workloads_run_restricted(doc):
    pod = _pod_spec(doc)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in _containers(doc):
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["limits"]["memory"]


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_exactly_one_beat_is_ever_running(rendering):
    beat = _by_name(ALL_RENDERINGS[rendering], "Deployment", "paas-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_the_release_waits_for_its_migrations(rendering):
    docs = ALL_RENDERINGS[rendering]
    job = _by_name(docs, "Job", "paas-migrate")
    image = job["spec"]["template"]["spec"]["containers"][0]["image"]
    for name in ("paas-web", "paas-worker", "paas-beat"):
        (wait,) = _pod_spec(_by_name(docs, "Deployment", name))["initContainers"]
        assert "migrate --check" in wait["command"][-1]
        assert wait["image"] == image, "the wait must run the release's own migrations"


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_every_container_runs_the_same_release(rendering):
    images = {c["image"] for doc in ALL_RENDERINGS[rendering] for c in _containers(doc)}
    assert len(images) == 1
    (image,) = images
    assert image.startswith(f"{IMAGE}:")
    if rendering == "production":
        assert not image.endswith((":latest", ":main")), "production runs a pinned release"


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_web_probes_and_hosts(rendering):
    web = _pod_spec(_by_name(ALL_RENDERINGS[rendering], "Deployment", "paas-web"))["containers"][0]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["port"] == web["readinessProbe"]["httpGet"]["port"] == "http"
    # Probes and scrapes send Host: <pod IP>: the pod's IP joins the allowed hosts. POD_IP must be
    # defined before the value that refers to it, and the ConfigMap's list is kept.
    names = [e["name"] for e in web["env"]]
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")
    assert _env(web)["ALLOWED_HOSTS"] == "$(ALLOWED_HOSTS),$(POD_IP)"
    assert {"name": "http", "containerPort": 8000} in web["ports"]


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_worker_metrics_are_served_and_shared_by_the_pool(rendering):
    pod = _pod_spec(_by_name(ALL_RENDERINGS[rendering], "Deployment", "paas-worker"))
    (worker,) = pod["containers"]
    env = _env(worker)
    assert {"name": "metrics", "containerPort": int(env["WORKER_METRICS_PORT"])} in worker["ports"]
    mounts = {m["mountPath"]: m["name"] for m in worker["volumeMounts"]}
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[env["PROMETHEUS_MULTIPROC_DIR"]])
    assert "emptyDir" in volume
    # Emptied before the worker starts: a restarted container finds its predecessor's files.
    assert 'find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete && exec celery' in worker["command"][-1]


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_web_is_not_in_multiprocess_mode(rendering):
    # django-prometheus' /metrics exports only the MultiProcessCollector in multiprocess mode, so
    # the business collector (and every alert on it) would vanish. See the comment in web.yaml.
    for doc in ALL_RENDERINGS[rendering]:
        if doc["metadata"]["name"] == "paas-web" and _pod_spec(doc):
            for container in _containers(doc):
                assert "PROMETHEUS_MULTIPROC_DIR" not in _env(container)


# --- consistency ------------------------------------------------------------------------------
@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_every_selector_finds_its_pods_and_ports(rendering):
    docs = ALL_RENDERINGS[rendering]
    pods = [(d["spec"]["template"]["metadata"]["labels"], _pod_spec(d)) for d in docs if _pod_spec(d)]

    def ports_of(selector):
        found = [p for labels, p in pods if _matches(selector, labels)]
        assert found, f"{rendering}: nothing matches {selector}"
        return {port["name"] for p in found for c in p["containers"] for port in c.get("ports", [])}

    services = {}
    for doc in docs:
        if doc["kind"] == "Service" and "selector" in doc["spec"]:
            ports = ports_of(doc["spec"]["selector"])
            assert {p["targetPort"] for p in doc["spec"]["ports"]} <= ports, doc["metadata"]["name"]
            services[doc["metadata"]["name"]] = doc
        elif doc["kind"] == "PodDisruptionBudget":
            ports_of(doc["spec"]["selector"]["matchLabels"])
        elif doc["kind"] == "PodMonitor":
            ports = ports_of(doc["spec"]["selector"]["matchLabels"])
            assert {e["port"] for e in doc["spec"]["podMetricsEndpoints"]} <= ports
        elif doc["kind"] == "ServiceMonitor":
            wanted = doc["spec"]["selector"]["matchLabels"]
            selected = [s for s in services.values() if _matches(wanted, s["metadata"]["labels"])]
            assert [s["metadata"]["name"] for s in selected] == ["paas-web"], "one Service, or scrapes double"
            assert {e["port"] for e in doc["spec"]["endpoints"]} <= {p["name"] for p in selected[0]["spec"]["ports"]}
        elif doc["kind"] == "Ingress":
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    service = path["backend"]["service"]
                    assert service["port"]["name"] in {p["name"] for p in services[service["name"]]["spec"]["ports"]}


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_hosts_agree_between_the_ingress_and_the_settings(rendering):
    docs = ALL_RENDERINGS[rendering]
    config = _by_name(docs, "ConfigMap", "paas-config")["data"]
    ingress = _by_name(docs, "Ingress", "paas-web")
    (host,) = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert ingress["spec"]["tls"][0]["hosts"] == [host]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert _by_name(docs, "Ingress", "paas-web-internal-paths")["spec"]["rules"][0]["host"] == host
    assert config["ALLOWED_HOSTS"].split(",") == [host, "paas-web.paas-system.svc.cluster.local"]
    assert config["CSRF_TRUSTED_ORIGINS"] == f"https://{host}"
    assert config["MIDTRANS_NOTIFICATION_URL"] == f"https://{host}/api/v1/billing/midtrans/notification"
    assert config["PASSWORD_RESET_URL"].startswith(f"https://{host}/")
    # Stopped apps' hosts reach the web Service by this name.
    web = _by_name(docs, "Service", "paas-web")
    assert config["PAAS_PAUSE_SERVICE_HOST"] == f"paas-web.{web['metadata']['namespace']}.svc.cluster.local"
    assert config["PAAS_PAUSE_SERVICE_PORT"] == str(web["spec"]["ports"][0]["port"])


def test_each_overlay_talks_to_its_own_midtrans():
    staging = _by_name(RENDERED["staging"], "ConfigMap", "paas-config")["data"]
    production = _by_name(RENDERED["production"], "ConfigMap", "paas-config")["data"]
    assert staging["PAYMENT_GATEWAY"] == production["PAYMENT_GATEWAY"] == "midtrans"
    assert (staging["MIDTRANS_IS_PRODUCTION"], production["MIDTRANS_IS_PRODUCTION"]) == ("false", "true")
    assert staging["PAAS_APPS_DOMAIN"] != production["PAAS_APPS_DOMAIN"]
    assert production["PAAS_DELETE_ORPHANS"] == staging["PAAS_DELETE_ORPHANS"] == "false"


@pytest.mark.parametrize("rendering", ALL_RENDERINGS)
def test_a_node_drain_never_waits_forever_on_the_web_budget(rendering):
    docs = ALL_RENDERINGS[rendering]
    budget = _by_name(docs, "PodDisruptionBudget", "paas-web")["spec"]
    assert _by_name(docs, "Deployment", "paas-web")["spec"]["replicas"] > budget["minAvailable"]
    assert _by_name(docs, "PodDisruptionBudget", "paas-worker")["spec"]["maxUnavailable"] == 1


def test_the_secret_template_has_every_key_the_manifests_read_and_none_of_the_config():
    (secret,) = _load(K8S_DIR / "secret.example.yaml")
    keys = set(secret["stringData"])
    referenced = {
        env["valueFrom"]["secretKeyRef"]["key"]
        for doc in BASE
        for container in _containers(doc)
        for env in container.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    assert referenced <= keys
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "MIDTRANS_SERVER_KEY", "WORKER_JOIN_TOKEN"} <= keys
    assert not keys & set(_by_name(BASE, "ConfigMap", "paas-config")["data"]), "a key in both: which one wins?"
