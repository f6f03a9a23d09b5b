"""Validation of the settings a customer chooses for an instance.

``config_validate`` is the one entry point: the validate-config endpoint uses it now and the
subscriptions API will use it on purchase. It raises Django's ``ValidationError`` keyed by
field (``<prefix><name>``), which the API error handler turns into a 400 ``validation_error``
with those field errors.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .registry import get_blueprint
from .types import ConfigField

MAX_KEYS = 50
# Echoed in error details; an unknown key of any size must not make a huge response.
_KEY_ECHO_LIMIT = 64


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _has_control_characters(value: str) -> bool:
    # Cc: C0/C1 controls (newlines, tabs, NUL, ESC); Zl/Zp: Unicode line/paragraph separators.
    return any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in value)


def _check_string(f: ConfigField, value: Any) -> list[str]:
    if not isinstance(value, str):
        return ["Must be a string."]
    if len(value) > f.max_length:
        return [f"At most {f.max_length} characters."]
    if _has_control_characters(value):
        return ["Control characters and line breaks are not allowed."]
    if f.pattern and not re.fullmatch(f.pattern, value):
        return ["Invalid format."]
    return []


def _check(f: ConfigField, value: Any) -> list[str]:
    if f.kind == "string":
        return _check_string(f, value)
    if f.kind == "email":
        errors = _check_string(f, value)
        if errors or value == "":
            return errors
        try:
            validate_email(value)
        except ValidationError:
            return ["Enter a valid email address."]
        return []
    if f.kind == "boolean":
        return [] if isinstance(value, bool) else ["Must be true or false."]
    if f.kind == "integer":
        # bool is an int in Python; JSON true is not a number.
        if not isinstance(value, int) or isinstance(value, bool):
            return ["Must be an integer."]
        if f.min_value is not None and value < f.min_value:
            return [f"Must be at least {f.min_value}."]
        if f.max_value is not None and value > f.max_value:
            return [f"Must be at most {f.max_value}."]
        return []
    if f.kind == "timezone":
        if not isinstance(value, str) or value not in _timezones():
            return ["Unknown time zone; use an IANA name such as Asia/Jakarta."]
        return []
    if f.kind == "choice":
        if value not in f.choices:
            return [f"Must be one of: {', '.join(f.choices)}."]
        return []
    raise AssertionError(f"unhandled config kind {f.kind}")  # a blueprint bug, caught by its tests


def config_validate(*, template_key: str, config: Any, field_prefix: str = "") -> dict[str, Any]:
    """The customer's config for ``template_key``, checked and completed with defaults.

    ``None`` means "all defaults". Unknown keys are errors (a typo must not be silently ignored).
    Returns a new dict with every field of the blueprint, in declaration order. Raises
    ``ValidationError({"<prefix><field>": [messages]})``; a config that is not an object is
    reported under ``<prefix>`` without its trailing dot (or ``config`` when there is no prefix).
    """
    blueprint = get_blueprint(template_key)
    whole = field_prefix.rstrip(".") or "config"
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ValidationError({whole: ["Must be a JSON object."]})
    if len(config) > MAX_KEYS:
        raise ValidationError({whole: [f"At most {MAX_KEYS} settings."]})

    errors: dict[str, list[str]] = {}
    known = {f.name for f in blueprint.config_fields}
    accepted = ", ".join(sorted(known)) or "none"
    for key in config:
        if key not in known:
            shown = str(key)[:_KEY_ECHO_LIMIT]
            errors[f"{field_prefix}{shown}"] = [f"Unknown setting. {blueprint.name} accepts: {accepted}."]

    normalized: dict[str, Any] = {}
    for f in blueprint.config_fields:
        value = config.get(f.name, f.default)
        if value is None:
            value = f.default
        messages = _check(f, value)
        if messages:
            errors[f"{field_prefix}{f.name}"] = messages
        else:
            normalized[f.name] = value
    if errors:
        raise ValidationError(errors)
    return normalized


def config_defaults(*, template_key: str) -> dict[str, Any]:
    return config_validate(template_key=template_key, config={})
