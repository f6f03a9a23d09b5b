"""An instance's Secrets, from the values its caller gives (the renderer never invents one)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ..exceptions import MissingSecrets
from .context import InstanceContext
from .podspec import secret_name


def b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def secret_manifests(inst: InstanceContext, values: Mapping[str, str]) -> list[dict]:
    bp = inst.blueprint
    missing = [s.key for s in bp.secret_keys if not isinstance(values.get(s.key), str) or not values.get(s.key)]
    if missing:
        raise MissingSecrets(missing)
    manifests = []
    for group in ("app", "db"):
        keys = [s.key for s in bp.secret_keys if s.group == group]
        if not keys:
            continue
        secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": inst.meta(secret_name(inst, group), "web" if group == "app" else "database"),
            "type": "Opaque",
            # `data`, not `stringData`: the server stores `data`, so a later diff sees no change.
            "data": {key: b64(values[key]) for key in keys},
        }
        if group == "app" and bp.immutable_app_secret:
            secret["immutable"] = True
        manifests.append(secret)
    return manifests
