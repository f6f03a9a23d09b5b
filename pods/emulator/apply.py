"""Server-side apply and ``metadata.managedFields``.

Each field manager owns a set of field paths (FieldsV1 on the wire: ``f:spec``, ``f:replicas``,
``k:{"name":"web"}``, ``v:"x"``, ``.``). An apply:

1. merges the applied configuration into the live object with the merge semantics of the
   schema (``x-kubernetes-list-type: map`` lists by their keys, ``set`` lists as sets, atomic
   lists and atomic maps replaced, structs and maps merged field by field);
2. refuses (409 Conflict) to change a value another manager owns, unless ``force``, in which case
   ownership moves to the applier;
3. removes the fields this manager applied last time but no longer applies, unless another
   manager also owns them (so a ``restartedAt`` annotation set by someone else survives);
4. records the applied set as this manager's ``Apply`` entry.

Every other write (create, update, patch) makes its manager (operation ``Update``) the owner of
the fields it changed. Simplifications (see docs/emulator.md): one entry per manager and
operation, no versions other than the object's own, timestamps per write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import Cause
from .meta import clone, rfc3339
from .schema import Schema, SchemaSet

Path = tuple[str, ...]
ITEM = "."  # the path element marking ownership of a list item itself

# Fields a server sets or that identify the object: never owned by a manager.
_UNTRACKED_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    }
)

# List-map key fields that the server defaults: an applied item without them matches the defaulted one.
_KEY_DEFAULTS = {"protocol": "TCP"}


@dataclass(frozen=True)
class Conflict:
    manager: str
    path: Path


def manager_from_user_agent(user_agent: str | None) -> str:
    """The default manager of a request without ``fieldManager``: the user agent up to its first ``/``."""
    return (user_agent or "unknown").split("/", 1)[0] or "unknown"


def describe(path: Path) -> str:
    """``.spec.template.spec.containers[name="web"].image`` — how conflicts are reported."""
    out = ""
    for part in path:
        if part.startswith("f:"):
            out += "." + part[2:]
        elif part.startswith("k:"):
            keys = json.loads(part[2:])
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        elif part.startswith("v:"):
            out += f"[{part[2:]}]"
    return out


# --- FieldsV1 encoding -------------------------------------------------------------------------


def encode(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(part, {})
    return root


def decode(fields: dict[str, Any] | None) -> set[Path]:
    out: set[Path] = set()

    def walk(node: dict[str, Any], prefix: Path) -> None:
        for part, child in node.items():
            path = (*prefix, part)
            if child:
                walk(child, path)
            else:
                out.add(path)

    walk(fields or {}, ())
    return out


# --- the field manager ------------------------------------------------------------------------


class FieldManager:
    """Computes field sets and merges for objects of the kinds in ``schemas``."""

    def __init__(self, schemas: SchemaSet) -> None:
        self.schemas = schemas

    # field sets

    def leaves(self, obj: dict[str, Any]) -> dict[Path, Any]:
        """Every owned path of ``obj`` and the value found there (``ITEM`` paths map to the item)."""
        root = self.schemas.root(obj.get("apiVersion", ""), obj.get("kind", ""))
        out: dict[Path, Any] = {}
        for key, value in obj.items():
            if key in ("apiVersion", "kind", "status"):
                continue
            child = self.schemas.child(root, key)
            if key == "metadata" and isinstance(value, dict):
                for mkey, mvalue in value.items():
                    if mkey not in _UNTRACKED_META:
                        self._walk(mvalue, self.schemas.child(child, mkey), ("f:metadata", f"f:{mkey}"), out)
            else:
                self._walk(value, child, (f"f:{key}",), out)
        return out

    def _walk(self, value: Any, node: Schema | None, path: Path, out: dict[Path, Any]) -> None:
        if isinstance(value, dict) and value and not self.schemas.is_atomic_map(node):
            for key, sub in value.items():
                self._walk(sub, self.schemas.child(node, key), (*path, f"f:{key}"), out)
        elif isinstance(value, list) and value:
            info = self.schemas.list_info(node)
            if info.list_type == "map" and info.keys and all(isinstance(i, dict) for i in value):
                items = self.schemas.items(node)
                for item in value:
                    item_path = (*path, self.item_key(item, info.keys))
                    out[(*item_path, ITEM)] = item
                    for key, sub in item.items():
                        self._walk(sub, self.schemas.child(items, key), (*item_path, f"f:{key}"), out)
            elif info.list_type == "set":
                for item in value:
                    out[(*path, "v:" + json.dumps(item, sort_keys=True))] = item
            else:
                out[path] = value
        else:
            out[path] = value

    @staticmethod
    def item_key(item: dict[str, Any], keys: tuple[str, ...]) -> str:
        return "k:" + json.dumps(
            {k: item.get(k, _KEY_DEFAULTS.get(k)) for k in keys}, sort_keys=True, separators=(",", ":")
        )

    # managedFields bookkeeping

    @staticmethod
    def entries(obj: dict[str, Any]) -> list[dict[str, Any]]:
        return list(obj.get("metadata", {}).get("managedFields") or [])

    @staticmethod
    def _entry(
        manager: str, operation: str, api_version: str, now: float, paths: set[Path], subresource: str
    ) -> dict[str, Any]:
        entry = {
            "manager": manager,
            "operation": operation,
            "apiVersion": api_version,
            "time": rfc3339(now),
            "fieldsType": "FieldsV1",
            "fieldsV1": encode(paths),
        }
        if subresource:
            entry["subresource"] = subresource
        return entry

    def record_update(
        self, old: dict[str, Any] | None, new: dict[str, Any], manager: str, now: float, subresource: str = ""
    ) -> None:
        """Give ``manager`` (operation Update) the fields it changed from ``old`` to ``new``."""
        before = self.leaves(old) if old is not None else {}
        after = self.leaves(new)
        changed = {p for p, v in after.items() if p not in before or before[p] != v}
        removed = set(before) - set(after)
        entries = []
        mine: set[Path] = set()
        for entry in self.entries(old or {}):
            paths = decode(entry.get("fieldsV1"))
            same = (
                entry.get("manager") == manager
                and entry.get("operation") == "Update"
                and entry.get("subresource", "") == subresource
            )
            if same:
                mine = paths - removed
                continue
            paths -= changed | removed
            if paths:
                entries.append({**entry, "fieldsV1": encode(paths)})
        mine |= changed
        if mine:
            entries.append(self._entry(manager, "Update", new.get("apiVersion", ""), now, mine, subresource))
        new.setdefault("metadata", {})["managedFields"] = entries

    def apply(
        self, live: dict[str, Any] | None, applied: dict[str, Any], manager: str, *, force: bool, now: float
    ) -> tuple[dict[str, Any], list[Conflict]]:
        """Merge ``applied`` into ``live`` for ``manager``. Returns the new object and, when not
        ``force``, the conflicts that forbid it (the object is then meaningless)."""
        applied_leaves = self.leaves(applied)
        new_paths = set(applied_leaves)
        entries = self.entries(live or {})
        previous: set[Path] = set()
        others: list[tuple[dict[str, Any], set[Path]]] = []
        for entry in entries:
            paths = decode(entry.get("fieldsV1"))
            if entry.get("manager") == manager and entry.get("operation") == "Apply":
                previous = paths
            else:
                others.append((entry, paths))

        live_leaves = self.leaves(live) if live is not None else {}
        conflicts = []
        for path, value in applied_leaves.items():
            if path[-1] == ITEM or path not in live_leaves or live_leaves[path] == value:
                continue
            for entry, paths in others:
                if path in paths:
                    conflicts.append(Conflict(entry.get("manager", ""), path))
        if conflicts and not force:
            return live or applied, conflicts

        root = self.schemas.root(applied.get("apiVersion", ""), applied.get("kind", ""))
        merged = self._merge(live, applied, root) if live is not None else clone(applied)
        owned_by_others = set().union(*(paths for _, paths in others)) if others else set()
        if force:
            taken = {c.path for c in conflicts}
            owned_by_others -= taken
            others = [(entry, paths - taken) for entry, paths in others]
        # Whole list items first (so their key fields still identify them), deepest first.
        for path in sorted(previous - new_paths, key=lambda p: (p[-1] != ITEM, -len(p))):
            if path in owned_by_others:
                continue
            if path[-1] == ITEM and any(p[: len(path) - 1] == path[:-1] for p in owned_by_others):
                continue
            if len(path) > 1 and path[-2].startswith("k:") and path[-1][2:] in json.loads(path[-2][2:]):
                continue  # a key field of an item that stays
            self._remove(merged, path, root)

        new_entries = [{**entry, "fieldsV1": encode(paths)} for entry, paths in others if paths]
        unchanged = live is not None and previous == new_paths and self._strip(merged) == self._strip(live)
        if unchanged:
            merged["metadata"]["managedFields"] = entries
        else:
            new_entries.append(self._entry(manager, "Apply", applied.get("apiVersion", ""), now, new_paths, ""))
            merged.setdefault("metadata", {})["managedFields"] = new_entries
        return merged, []

    @staticmethod
    def _strip(obj: dict[str, Any]) -> dict[str, Any]:
        return {**obj, "metadata": {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}}

    # merging and pruning

    def _merge(self, live: Any, applied: Any, node: Schema | None) -> Any:
        if isinstance(applied, dict) and isinstance(live, dict) and not self.schemas.is_atomic_map(node):
            result = clone(live)
            for key, value in applied.items():
                if value is None:
                    result.pop(key, None)
                else:
                    result[key] = self._merge(live.get(key), value, self.schemas.child(node, key))
            return result
        if isinstance(applied, list) and isinstance(live, list):
            info = self.schemas.list_info(node)
            if info.list_type == "map" and info.keys and all(isinstance(i, dict) for i in applied + live):
                items = self.schemas.items(node)
                result = [clone(i) for i in live]
                index = {self.item_key(item, info.keys): n for n, item in enumerate(result)}
                for item in applied:
                    key = self.item_key(item, info.keys)
                    if key in index:
                        result[index[key]] = self._merge(result[index[key]], item, items)
                    else:
                        index[key] = len(result)
                        result.append(clone(item))
                return result
            if info.list_type == "set":
                return [clone(i) for i in live] + [clone(i) for i in applied if i not in live]
        return clone(applied)

    def _remove(self, obj: dict[str, Any], path: Path, root: Schema | None) -> None:
        """Remove the field or list item at ``path``, then any map it left empty."""
        trail: list[tuple[Any, Any]] = []  # (container, key-or-index) from the root down
        node: Any = obj
        schema = root
        for part in path:
            if part == ITEM:
                break
            if part.startswith("f:") and isinstance(node, dict):
                key = part[2:]
                if key not in node:
                    return
                trail.append((node, key))
                schema = self.schemas.child(schema, key)
                node = node[key]
            elif part.startswith("k:") and isinstance(node, list):
                keys = tuple(json.loads(part[2:]))
                match = next(
                    (n for n, i in enumerate(node) if isinstance(i, dict) and self.item_key(i, keys) == part), None
                )
                if match is None:
                    return
                trail.append((node, match))
                schema = self.schemas.items(schema)
                node = node[match]
            elif part.startswith("v:") and isinstance(node, list):
                value = json.loads(part[2:])
                if value not in node:
                    return
                trail.append((node, node.index(value)))
                node = value
            else:
                return
        if not trail:
            return
        container, key = trail.pop()
        del container[key]
        # Drop the maps the removal emptied (a real server does not keep ``annotations: {}``).
        while trail and not container and isinstance(container, dict):
            container, key = trail.pop()
            del container[key]


def conflict_causes(conflicts: list[Conflict]) -> Iterator[Cause]:
    for c in conflicts:
        yield Cause(describe(c.path), "FieldManagerConflict", f'conflict with "{c.manager}": {describe(c.path)}')
