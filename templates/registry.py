"""The registry of blueprints, keyed by template key (``catalog.Service.template`` names one).

Blueprint modules register themselves at import; ``templates.blueprints`` imports them all.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from .exceptions import UnknownTemplate
from .types import Blueprint

_KEY_RE = re.compile(r"^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$")
_SECRET_KEY_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_BLUEPRINTS: dict[str, Blueprint] = {}


def _check(blueprint: Blueprint) -> None:
    """Catch a malformed blueprint at import, not when a customer's instance is rendered."""
    if not _KEY_RE.match(blueprint.key):
        raise ValueError(f"blueprint key {blueprint.key!r} must be a short DNS label")
    if ":" not in blueprint.image or blueprint.image.endswith((":latest", ":stable")):
        raise ValueError(f"{blueprint.key}: pin the image to a version tag")
    share = blueprint.share
    for part in (share.cpu, share.memory, share.storage):
        if not 0 < part <= 100:
            raise ValueError(f"{blueprint.key}: shares are percentages in 1..100")
    if blueprint.database is None and (share.cpu, share.memory, share.storage) != (100, 100, 100):
        raise ValueError(f"{blueprint.key}: without a database the app takes the whole plan")
    if blueprint.database is not None and 100 in (share.cpu, share.memory, share.storage):
        raise ValueError(f"{blueprint.key}: leave the database a share of the plan")
    groups = {s.group for s in blueprint.secret_keys}
    if ("db" in groups) != (blueprint.database is not None):
        raise ValueError(f"{blueprint.key}: database secrets go with a database, and only with one")
    keys = [s.key for s in blueprint.secret_keys]
    if len(set(keys)) != len(keys) or not all(_SECRET_KEY_RE.match(k) for k in keys):
        raise ValueError(f"{blueprint.key}: secret keys must be unique lowercase DNS labels")
    names = [f.name for f in blueprint.config_fields]
    if len(set(names)) != len(names):
        raise ValueError(f"{blueprint.key}: config field names must be unique")
    if not blueprint.data_mounts:
        raise ValueError(f"{blueprint.key}: an app needs a data volume")


def register(blueprint: Blueprint) -> Blueprint:
    _check(blueprint)
    if blueprint.key in _BLUEPRINTS and _BLUEPRINTS[blueprint.key] is not blueprint:
        raise ValueError(f"blueprint {blueprint.key!r} is already registered")
    _BLUEPRINTS[blueprint.key] = blueprint
    return blueprint


def _load() -> None:
    # Importing the package registers every shipped blueprint (idempotent).
    from . import blueprints  # noqa: F401


def get_blueprint(key: str) -> Blueprint:
    _load()
    try:
        return _BLUEPRINTS[key]
    except (KeyError, TypeError):
        raise UnknownTemplate(key) from None


def template_keys() -> list[str]:
    _load()
    return sorted(_BLUEPRINTS)


def template_choices() -> list[tuple[str, str]]:
    _load()
    return [(key, _BLUEPRINTS[key].name) for key in sorted(_BLUEPRINTS)]


def validate_template_key(value: str) -> None:
    """Model/form validator: the value must name a registered blueprint."""
    if value not in template_keys():
        raise ValidationError(
            "Unknown template %(value)s; known templates: %(known)s.",
            code="unknown_template",
            params={"value": value, "known": ", ".join(template_keys())},
        )
