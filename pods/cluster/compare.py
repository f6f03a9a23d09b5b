"""Does a live object already say what we would apply? The test that keeps a converged instance
at reads only.

The API server adds defaults, status, metadata and other managers' fields to what we applied,
and writes quantities in canonical form (``1024Mi`` comes back as ``1Gi``, ``1000m`` as ``1``).
So "matches" means: every field we set has the same value in the live object, lists of named
things (containers, ports, env, volumes) are compared item by item by name, other lists as a
whole, and two strings that are both quantities are compared by value.
"""

from __future__ import annotations

from typing import Any

from pods.quantity import QuantityError, parse_quantity

# Metadata fields that are ours to set; the rest (uid, resourceVersion, managedFields...) is the server's.
_OWN_METADATA = ("labels", "annotations")


def _same_scalar(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, str) and isinstance(have, str | int) and not isinstance(have, bool):
        try:
            return parse_quantity(want) == parse_quantity(have)
        except QuantityError:
            return False
    return False


def _keyed(items: list) -> str | None:
    """The merge key of a list of objects, when every item has one, unique in the list (``name`` for
    most lists). Items that share a key value (UDP and TCP on port 53) are compared as a whole list."""
    for key in ("name", "containerPort", "mountPath", "port"):
        if items and all(isinstance(i, dict) and key in i for i in items):
            values = [i[key] for i in items]
            return key if len(set(map(str, values))) == len(values) else None
    return None


def _list_matches(want: list, have: Any) -> bool:
    if not isinstance(have, list):
        return False
    key = _keyed(want)
    if key is not None:
        # Other managers may add items (an injected sidecar): ours must be there, unchanged.
        live = {item.get(key): item for item in have if isinstance(item, dict)}
        return all(item[key] in live and matches(item, live[item[key]]) for item in want)
    return len(want) == len(have) and all(matches(w, h) for w, h in zip(want, have, strict=True))


def matches(want: Any, have: Any) -> bool:
    """True when ``have`` (live) carries every value of ``want`` (what we would apply)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and matches(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return _list_matches(want, have)
    return _same_scalar(want, have)


def object_matches(desired: dict, live: dict) -> bool:
    """``matches`` for a whole manifest: our labels and annotations, and everything below metadata."""
    for section, value in desired.items():
        if section in {"apiVersion", "kind"}:
            continue
        if section == "metadata":
            live_meta = live.get("metadata") or {}
            if not all(matches(value.get(field, {}), live_meta.get(field) or {}) for field in _OWN_METADATA):
                return False
            continue
        if not matches(value, live.get(section)):
            return False
    return True
