"""Object metadata helpers shared by the API handlers and the controllers.

Timestamps in the API's RFC 3339 form, generated names with the API server's alphabet, the
template hashes controllers put in names and labels, owner references, and ``clone`` (stored
objects are never mutated in place: every write stores a fresh copy).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .resources import ResourceType

# The alphabet of generated names (no vowels, no look-alike digits), as apimachinery uses.
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
GENERATE_NAME_SUFFIX = 5
_MAX_NAME = 63


def rfc3339(ts: float) -> str:
    """``2024-05-01T12:00:00Z``: metadata timestamps carry whole seconds."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(ts: float) -> str:
    """``2024-05-01T12:00:00.123456Z``: the MicroTime of events' ``eventTime`` and log timestamps."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def new_uid() -> str:
    return str(uuid.uuid4())


def random_suffix(rng: random.Random, length: int = GENERATE_NAME_SUFFIX) -> str:
    return "".join(rng.choice(_ALPHANUMS) for _ in range(length))


def generated_name(prefix: str, rng: random.Random) -> str:
    """``generateName`` + 5 random characters, the prefix cut so the result stays a DNS label."""
    return prefix[: _MAX_NAME - GENERATE_NAME_SUFFIX] + random_suffix(rng)


def _safe_encode(text: str) -> str:
    """apimachinery's SafeEncodeString: map each character onto the no-vowel alphabet."""
    return "".join(_ALPHANUMS[ord(ch) % len(_ALPHANUMS)] for ch in text)


def template_hash(template: Any, collision_count: int = 0) -> str:
    """A stable hash of a pod template (the ``pod-template-hash`` / revision suffix): a 32-bit
    number in the name alphabet, like the controllers' (which use FNV; any stable hash will do)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    number = int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "big")
    return _safe_encode(str(number))


def clone(value: Any) -> Any:
    """A deep copy of a JSON value, several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def owner_reference(owner: Mapping[str, Any], rt: ResourceType, *, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": rt.api_version,
        "kind": rt.kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of the owner reference marked ``controller: true``, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None
