"""Manifests as a multi-document YAML stream, for people (``manage.py render_manifests``)."""

from __future__ import annotations

import base64
from collections.abc import Iterable

import yaml

REDACTED = "<redacted>"


class _Dumper(yaml.SafeDumper):
    # Plain documents for people and kubectl: repeated dicts are written out, not aliased.
    def ignore_aliases(self, data) -> bool:
        return True


def manifests_to_yaml(manifests: Iterable[dict]) -> str:
    # The safe dumper quotes every string that would otherwise read as another type or structure.
    return yaml.dump_all(list(manifests), Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def redact_secrets(manifests: Iterable[dict]) -> list[dict]:
    """A copy where every Secret's values read ``<redacted>`` (still valid base64)."""
    placeholder = base64.b64encode(REDACTED.encode()).decode()
    redacted = []
    for doc in manifests:
        if doc.get("kind") == "Secret":
            doc = {**doc, "data": dict.fromkeys(doc.get("data", {}), placeholder)}
        redacted.append(doc)
    return redacted
