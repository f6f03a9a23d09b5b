"""Does a live object already say what we would apply? The test that keeps a converged instance
at reads only.

The API server adds defaults, status, metadata and other managers' fields to what we applied,
leaves out zero values (``omitempty``: an ``initialDelaySeconds: 0`` comes back absent), and
writes quantities in canonical form (``1024Mi`` comes back as ``1Gi``, ``1000m`` as ``1``).
So "matches" means: every field we set has the same value in the live object (a zero value may
be absent), lists of named things (containers, ports, env, volumes) are compared item by item by
name, other lists as a whole, and quantities (under resources, quota and capacity keys) by value.
"""

from __future__ import annotations

from typing import Any

from pods.quantity import QuantityError, parse_quantity

# Metadata fields that are ours to set; the rest (uid, resourceVersion, managedFields...) is the server's.
_OWN_METADATA = ("labels", "annotations")


# Where quantities live: only there are "1024Mi" and "1Gi" the same value ("1e3" and "1000" in an
# environment variable are not).
_QUANTITY_KEYS = frozenset({"requests", "limits", "hard", "capacity", "allocatable", "default", "defaultRequest"})


def _empty(value: Any) -> bool:
    # Go's zero values, which the API server leaves out of what it returns (``omitempty``).
    return value is None or (not isinstance(value, bool) and value in ("", 0, {}, [])) or value is False


def _same_scalar(want: Any, have: Any, *, quantity: bool) -> bool:
    if type(want) is type(have) and want == have:
        return True
    if quantity and isinstance(want, str | int) and isinstance(have, str | int):
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


def _list_matches(want: list, have: Any, quantity: bool) -> bool:
    if not isinstance(have, list):
        return not want and have is None
    key = _keyed(want)
    if key is not None:
        # Other managers may add items (an injected sidecar): ours must be there, unchanged.
        live = {item.get(key): item for item in have if isinstance(item, dict)}
        return all(item[key] in live and _matches(item, live[item[key]], quantity) for item in want)
    return len(want) == len(have) and all(_matches(w, h, quantity) for w, h in zip(want, have, strict=True))


def _matches(want: Any, have: Any, quantity: bool) -> bool:
    # Plain loops rather than all() over generators: the sweep runs this over every field of
    # every object of every instance.
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return not want and have is None
        for key, value in want.items():
            if key not in have:
                if not _empty(value):
                    return False
            elif type(value) is str and type(have[key]) is str and not quantity and key not in _QUANTITY_KEYS:
                if value != have[key]:  # the most common leaf, compared without the general path
                    return False
            elif not _matches(value, have[key], quantity or key in _QUANTITY_KEYS):
                return False
        return True
    if isinstance(want, list):
        return _list_matches(want, have, quantity)
    return _same_scalar(want, have, quantity=quantity)


def matches(want: Any, have: Any) -> bool:
    """True when ``have`` (live) carries every value of ``want`` (what we would apply)."""
    return _matches(want, have, False)


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
        if section not in live:
            if not _empty(value):
                return False
            continue
        if not _matches(value, live[section], False):
            return False
    return True
