import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from catalog.models import Plan, Service
from catalog.services import catalog_seed

pytestmark = pytest.mark.django_db


def _run(*args) -> list[dict]:
    from io import StringIO

    out = StringIO()
    call_command("render_manifests", *args, stdout=out)
    return list(yaml.safe_load_all(out.getvalue()))


def test_render_manifests_prints_every_document_as_yaml():
    catalog_seed()
    docs = _run("ghost", "--plan", "pro", "--name", 'My "Blog": {{x}}', "--config", json.dumps({"use_gravatar": True}))
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Namespace" and kinds[-1] == "Ingress" and "StatefulSet" in kinds
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["metadata"]["annotations"]["paas/display-name"] == 'My "Blog": {{x}}'
    # Secret values are placeholders by default.
    for secret in (d for d in docs if d["kind"] == "Secret"):
        assert set(secret["data"].values()) == {"PHJlZGFjdGVkPg=="}


def test_render_manifests_is_stable_between_runs():
    catalog_seed()
    assert _run("n8n", "--plan", "starter") == _run("n8n", "--plan", "starter")


def test_render_manifests_can_show_generated_secrets():
    catalog_seed()
    docs = _run("n8n", "--plan", "starter", "--show-secrets")
    [secret] = [d for d in docs if d["kind"] == "Secret"]
    assert secret["data"]["n8n-encryption-key"] != "PHJlZGFjdGVkPg=="


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ghost", "--plan", "starter", "--config", '{"use_gravatar": "yes"}'], "use_gravatar"),
        (["ghost", "--plan", "starter", "--config", "{not json"], "not valid JSON"),
        (["ghost", "--plan", "starter", "--config", "[1]"], "Must be a JSON object"),
        (["ghost", "--plan", "gold"], "Unknown plan"),
        (["drupal", "--plan", "starter"], "Unknown service"),
        (["ghost", "--plan", "starter", "--namespace", "Bad NS"], "namespace"),
    ],
)
def test_render_manifests_errors_are_clear(args, message):
    catalog_seed()
    with pytest.raises(CommandError, match=message):
        call_command("render_manifests", *args)


def test_seed_command_is_idempotent():
    call_command("seed")
    call_command("seed")
    assert Service.objects.count() == 3
    assert Plan.objects.count() == 6
