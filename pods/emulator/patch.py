"""The three PATCH formats of the API: JSON Patch, JSON merge patch and strategic-merge patch.

Strategic merge is schema-driven: lists whose schema says ``x-kubernetes-patch-strategy: merge``
are merged item by item on their ``patch-merge-key`` (containers by ``name``, ports by
``containerPort``, volumeMounts by ``mountPath``...), so patching one container's image keeps
its ports; every other list is replaced. The ``$patch: delete|replace`` directives, ``$retainKeys``
and ``$deleteFromPrimitiveList`` are honoured; ``$setElementOrder`` is accepted and ignored
(the emulator keeps the existing order and appends new items).

Patches never modify their inputs. Errors raise ``PatchError``.
"""

from __future__ import annotations

from typing import Any

from .meta import clone
from .schema import Schema, SchemaSet


class PatchError(ValueError):
    """A patch that cannot be applied to the object (the server answers 422)."""


# --- JSON merge patch (RFC 7386) -------------------------------------------------------------


def merge_patch(original: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- JSON Patch (RFC 6902) -------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: /{'/'.join(parts)}")
    return node, parts[-1]


def _index(container: list[Any], part: str, *, allow_end: bool, op: str) -> int:
    if part == "-" and allow_end:
        return len(container)
    if not part.isdigit():
        raise PatchError(f"{op} operation does not apply: invalid array index {part!r}")
    index = int(part)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError(f"{op} operation does not apply: array index {index} out of bounds")
    return index


def _get(doc: Any, parts: list[str], op: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: /{'/'.join(parts)}")
    return node


def _add(doc: Any, parts: list[str], value: Any, op: str) -> Any:
    if not parts:
        return value
    parent, last = _parent(doc, parts, op)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True, op=op), value)
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str], op: str) -> Any:
    if not parts:
        raise PatchError(f"{op} operation does not apply: cannot remove the root")
    parent, last = _parent(doc, parts, op)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, allow_end=False, op=op))
    raise PatchError(f"{op} operation does not apply: doc is missing path: /{'/'.join(parts)}")


def json_patch(original: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("a JSON Patch must be a list of operations")
    doc = clone(original)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"invalid JSON Patch operation: {operation!r}")
        op, parts = operation["op"], _pointer(operation["path"])
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"{op} operation is missing a value")
        if op == "add":
            doc = _add(doc, parts, clone(operation["value"]), op)
        elif op == "remove":
            _remove(doc, parts, op)
        elif op == "replace":
            _get(doc, parts, op)
            if parts:
                _remove(doc, parts, op)
            doc = _add(doc, parts, clone(operation["value"]), op)
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from", ""))
            value = _remove(doc, source, op) if op == "move" else clone(_get(doc, source, op))
            doc = _add(doc, parts, value, op)
        elif op == "test":
            if _get(doc, parts, op) != operation["value"]:
                raise PatchError(f"testing value /{'/'.join(parts)} failed")
        else:
            raise PatchError(f"unsupported JSON Patch operation {op!r}")
    return doc


# --- Strategic merge patch -------------------------------------------------------------------


class StrategicMerge:
    """Strategic-merge patches for the kinds described by ``schemas``."""

    def __init__(self, schemas: SchemaSet) -> None:
        self.schemas = schemas

    def apply(self, original: dict[str, Any], patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise PatchError("a strategic merge patch must be a JSON object")
        root = self.schemas.root(original.get("apiVersion", ""), original.get("kind", ""))
        result = self._merge_map(original, patch, root)
        if not isinstance(result, dict):
            raise PatchError("a strategic merge patch cannot delete the object")
        return result

    def _merge_map(self, original: Any, patch: dict[str, Any], node: Schema | None) -> Any:
        directive = patch.get("$patch")
        if directive == "delete":
            return None
        if directive == "replace":
            return {k: clone(v) for k, v in patch.items() if not k.startswith("$")}
        result = clone(original) if isinstance(original, dict) else {}
        for key, value in patch.items():
            if key.startswith("$deleteFromPrimitiveList/"):
                field = key.split("/", 1)[1]
                if isinstance(result.get(field), list) and isinstance(value, list):
                    result[field] = [item for item in result[field] if item not in value]
                continue
            if key.startswith("$"):
                continue
            if value is None:
                result.pop(key, None)
                continue
            child = self.schemas.child(node, key)
            current = result.get(key)
            if isinstance(value, dict):
                merged = self._merge_map(current, value, child)
                if merged is None:
                    result.pop(key, None)
                else:
                    result[key] = merged
            elif isinstance(value, list):
                result[key] = self._merge_list(current, value, child)
            else:
                result[key] = value
        retain = patch.get("$retainKeys")
        if isinstance(retain, list):
            result = {k: v for k, v in result.items() if k in retain}
        return result

    def _merge_list(self, original: Any, patch: list[Any], node: Schema | None) -> list[Any]:
        info = self.schemas.list_info(node)
        if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
            return [clone(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
        if "merge" not in info.patch_strategy.split(","):
            return [clone(item) for item in patch if not (isinstance(item, dict) and "$patch" in item)]
        current = list(original) if isinstance(original, list) else []
        key = info.patch_merge_key
        if not key:
            # A merged list of scalars (finalizers): union, existing order first.
            return [clone(i) for i in current] + [clone(i) for i in patch if i not in current]
        items_schema = self.schemas.items(node)
        result = [clone(i) for i in current]
        for item in patch:
            if not isinstance(item, dict):
                raise PatchError(f"list items merged by {key!r} must be objects")
            position = next(
                (n for n, have in enumerate(result) if isinstance(have, dict) and have.get(key) == item.get(key)), None
            )
            if item.get("$patch") == "delete":
                if position is not None:
                    result.pop(position)
                continue
            if position is None:
                result.append({k: clone(v) for k, v in item.items() if not k.startswith("$")})
            else:
                result[position] = self._merge_map(result[position], item, items_schema)
        return result
