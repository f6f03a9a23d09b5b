import dataclasses

import pytest
from django.core.exceptions import ValidationError

from templates.blueprints.ghost import GHOST
from templates.blueprints.n8n import N8N
from templates.registry import get_blueprint, register, template_choices, validate_template_key
from templates.types import Share


def test_registry_knows_the_shipped_blueprints():
    assert get_blueprint("n8n") is N8N
    assert template_choices() == [("ghost", "Ghost"), ("n8n", "n8n"), ("wordpress", "WordPress")]


def test_registering_the_same_blueprint_twice_is_harmless_but_a_clash_is_not():
    assert register(N8N) is N8N
    with pytest.raises(ValueError, match="already registered"):
        register(dataclasses.replace(N8N, name="Other"))


@pytest.mark.parametrize(
    ("base", "change", "message"),
    [
        (N8N, {"key": "N8N!"}, "DNS label"),
        (N8N, {"image": "n8nio/n8n:latest"}, "pin the image"),
        (N8N, {"image": "n8nio/n8n"}, "pin the image"),
        (N8N, {"share": Share(cpu=50)}, "whole plan"),
        (GHOST, {"share": Share(cpu=100, memory=50, storage=50)}, "leave the database"),
        (GHOST, {"database": None, "share": Share()}, "database secrets"),
        (N8N, {"data_mounts": ()}, "data volume"),
        (N8N, {"config_fields": N8N.config_fields * 2}, "unique"),
    ],
)
def test_malformed_blueprints_are_refused_at_registration(base, change, message):
    with pytest.raises(ValueError, match=message):
        register(dataclasses.replace(base, **{"key": "probe", **change}))
    with pytest.raises(LookupError):
        get_blueprint("probe")


def test_validate_template_key():
    validate_template_key("ghost")
    with pytest.raises(ValidationError):
        validate_template_key("joomla")


def test_every_blueprint_declares_what_the_docs_promise():
    for key in ("n8n", "ghost", "wordpress"):
        bp = get_blueprint(key)
        assert ":" in bp.image and bp.port and bp.data_mounts and bp.probes and bp.security.run_as_user != 0
        assert bp.config_fields and bp.secret_keys
        assert bp.security.level == "restricted"
