"""The manifests that run this backend in a cluster validate against the official schemas."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

K8S_DIR = Path(settings.BASE_DIR) / "k8s"
KUBERNETES_VERSION = kubernetes_validate.latest_version()


def _documents():
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                yield pytest.param(doc, id=f"{path.name}#{index}-{doc['kind']}")


DOCUMENTS = list(_documents())


def test_every_manifest_file_is_listed_in_the_kustomization():
    listed = set(yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_manifest_is_valid_in_strict_mode(doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("doc", [d for d in DOCUMENTS if d.values[0]["kind"] in {"Deployment", "Job", "DaemonSet"}])
def test_workloads_run_restricted(doc):
    pod = doc["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["limits"]["memory"]


def test_exactly_one_beat_is_ever_running():
    beat = next(d.values[0] for d in DOCUMENTS if d.values[0]["metadata"]["name"] == "paas-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
