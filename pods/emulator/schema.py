"""The official OpenAPI schemas (as bundled by kubernetes-validate), compiled once per version.

Two uses:

- strict structural validation of a whole object (types, required fields, enums, unknown
  fields) — ``SchemaSet.validate`` compiles each schema node into a closure on first use and
  caches it, so validating the 2,000th Deployment costs a tree walk, not a schema load;
- the merge metadata of the built-in types (``x-kubernetes-list-type``, ``list-map-keys``,
  ``patch-merge-key``, ``patch-strategy``, atomic maps) that strategic-merge patch and
  server-side apply need: ``SchemaSet.root`` / ``child`` / ``items`` / ``list_info``.

The bundled schemas use a small keyword set (``type``, ``properties``, ``additionalProperties``,
``items``, ``required``, ``enum``, ``oneOf``, ``$ref``), which is all the compiler handles; any
other keyword is ignored, as a non-asserting ``format`` would be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources
from typing import Any

Schema = dict[str, Any]
PathPart = str | int
Check = Callable[[Any, tuple[PathPart, ...], list["Violation"]], None]

_REF_NAME = re.compile(r"#/\$defs/(.+)$")


@dataclass(frozen=True)
class Violation:
    """One structural error: the path parts, a Status cause reason and a message."""

    path: tuple[PathPart, ...]
    reason: str
    message: str

    @property
    def field(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class ListInfo:
    """How a list merges: ``atomic``, ``set`` or ``map`` (keyed by ``keys``)."""

    list_type: str
    keys: tuple[str, ...] = ()
    patch_strategy: str = ""
    patch_merge_key: str = ""


ATOMIC_LIST = ListInfo("atomic")


def format_path(parts: tuple[PathPart, ...]) -> str:
    """``spec.template.spec.containers[0].image`` — the field syntax of Status causes."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("[") and part.endswith("]"):
            out += part
        else:
            out += f".{part}" if out else part
    return out


def available_versions() -> list[str]:
    """Kubernetes minor versions with bundled strict schemas, oldest first (``["1.25", ...]``)."""
    root = importlib_resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    found = []
    for entry in root.iterdir():
        match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.append((int(match[1]), int(match[2])))
    return [f"{major}.{minor}" for major, minor in sorted(found)]


def resolve_version(version: str) -> str:
    """The newest bundled schema version not newer than ``version`` (``"v1.33.2"`` -> ``"1.33"``)."""
    match = re.match(r"^v?(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a Kubernetes version: {version!r}")
    wanted = (int(match[1]), int(match[2]))
    candidates = [v for v in available_versions() if tuple(map(int, v.split("."))) <= wanted]
    if not candidates:
        raise ValueError(f"no bundled schemas for Kubernetes {version} (have {', '.join(available_versions())})")
    return candidates[-1]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(actual: str, allowed: frozenset[str]) -> bool:
    return actual in allowed or (actual == "integer" and "number" in allowed)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


class SchemaSet:
    """The schemas of one Kubernetes minor version. Thread-safe after construction (caches only grow)."""

    def __init__(self, version: str) -> None:
        self.version = resolve_version(version)
        root = importlib_resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
        path = root.joinpath(f"v{self.version}.0-local-strict", "_definitions.json")
        self._defs: dict[str, Schema] = json.loads(path.read_text())["$defs"]
        self._by_gvk: dict[tuple[str, str], str] = {}
        for name, schema in self._defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind") or []:
                api_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
                self._by_gvk.setdefault((api_version, gvk["kind"]), name)
        self._compiled: dict[str, Check] = {}

    # --- navigation (merge metadata) ------------------------------------------------------

    def root(self, api_version: str, kind: str) -> Schema | None:
        name = self._by_gvk.get((api_version, kind))
        return self._defs[name] if name else None

    def root_name(self, api_version: str, kind: str) -> str | None:
        """The definition name of a kind (``io.k8s.api.apps.v1.Deployment``), or None."""
        return self._by_gvk.get((api_version, kind))

    def definition(self, name: str) -> Schema | None:
        return self._defs.get(name)

    @staticmethod
    def ref_name(schema: Schema | None) -> str | None:
        """The definition a ``$ref`` schema points at (``io.k8s.api.core.v1.Probe``), or None."""
        if not schema or "$ref" not in schema:
            return None
        match = _REF_NAME.search(schema["$ref"])
        return match[1] if match else None

    def resolve(self, schema: Schema | None) -> Schema | None:
        while schema is not None and "$ref" in schema:
            match = _REF_NAME.search(schema["$ref"])
            schema = self._defs.get(match[1]) if match else None
        return schema

    def child(self, schema: Schema | None, key: str) -> Schema | None:
        """The schema of ``key`` inside an object schema (a property or a map value)."""
        node = self.resolve(schema)
        if node is None:
            return None
        props = node.get("properties")
        if props and key in props:
            return props[key]
        extra = node.get("additionalProperties")
        return extra if isinstance(extra, dict) else None

    def items(self, schema: Schema | None) -> Schema | None:
        node = self.resolve(schema)
        return node.get("items") if node else None

    @staticmethod
    def list_info(schema: Schema | None) -> ListInfo:
        if not schema:
            return ATOMIC_LIST
        list_type = schema.get("x-kubernetes-list-type") or (
            "map" if schema.get("x-kubernetes-patch-merge-key") else "atomic"
        )
        keys = tuple(schema.get("x-kubernetes-list-map-keys") or ())
        merge_key = schema.get("x-kubernetes-patch-merge-key", "")
        if list_type == "map" and not keys and merge_key:
            keys = (merge_key,)
        return ListInfo(list_type, keys, schema.get("x-kubernetes-patch-strategy", ""), merge_key)

    def is_atomic_map(self, schema: Schema | None) -> bool:
        node = self.resolve(schema)
        return bool(node and node.get("x-kubernetes-map-type") == "atomic")

    # --- validation -----------------------------------------------------------------------

    def validate(self, obj: dict[str, Any]) -> list[Violation] | None:
        """Structural errors of ``obj`` against its kind's schema; None when the kind has no schema."""
        name = self._by_gvk.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if name is None:
            return None
        out: list[Violation] = []
        self._check_for(name)(obj, (), out)
        return out

    def _check_for(self, name: str) -> Check:
        check = self._compiled.get(name)
        if check is None:
            # ``$ref``s compile to lazy lookups, so recursive definitions need no special case.
            check = self._compiled[name] = self._compile(self._defs[name])
        return check

    def _compile(self, schema: Schema) -> Check:
        if "$ref" in schema:
            match = _REF_NAME.search(schema["$ref"])
            if not match:
                return lambda v, p, o: None
            ref = match[1]
            return lambda v, p, o: self._check_for(ref)(v, p, o)

        checks: list[Check] = []
        raw_type = schema.get("type")
        if raw_type:
            allowed = frozenset([raw_type] if isinstance(raw_type, str) else raw_type)
            checks.append(self._type_check(allowed))
        if "enum" in schema:
            checks.append(self._enum_check(schema["enum"]))
        if "oneOf" in schema:
            checks.append(self._one_of_check([self._compile(s) for s in schema["oneOf"]]))
        if "properties" in schema or "additionalProperties" in schema or "required" in schema:
            checks.append(self._object_check(schema))
        if "items" in schema:
            checks.append(self._array_check(self._compile(schema["items"])))

        if len(checks) == 1:
            return checks[0]

        def run_all(value: Any, path: tuple[PathPart, ...], out: list[Violation]) -> None:
            before = len(out)
            for check in checks:
                check(value, path, out)
                if len(out) > before:  # a wrong type makes the other checks noise
                    return

        return run_all

    @staticmethod
    def _type_check(allowed: frozenset[str]) -> Check:
        expected = " or ".join(sorted(t for t in allowed if t != "null")) or "null"

        def check(value: Any, path: tuple[PathPart, ...], out: list[Violation]) -> None:
            actual = _json_type(value)
            if not _type_ok(actual, allowed):
                out.append(
                    Violation(
                        path, "FieldValueTypeInvalid", f"Invalid value: {_short(value)}: must be of type {expected}"
                    )
                )

        return check

    @staticmethod
    def _enum_check(values: list[Any]) -> Check:
        allowed = list(values)
        listing = ", ".join(json.dumps(v) for v in allowed if v is not None)

        def check(value: Any, path: tuple[PathPart, ...], out: list[Violation]) -> None:
            if value not in allowed:
                out.append(
                    Violation(
                        path,
                        "FieldValueNotSupported",
                        f"Unsupported value: {_short(value)}: supported values: {listing}",
                    )
                )

        return check

    @staticmethod
    def _one_of_check(options: list[Check]) -> Check:
        def check(value: Any, path: tuple[PathPart, ...], out: list[Violation]) -> None:
            passing = 0
            for option in options:
                trial: list[Violation] = []
                option(value, path, trial)
                passing += not trial
            # Both Quantity and IntOrString accept null in each branch: one or more passing is fine.
            if passing == 0:
                out.append(
                    Violation(
                        path, "FieldValueTypeInvalid", f"Invalid value: {_short(value)}: must be a string or number"
                    )
                )

        return check

    def _object_check(self, schema: Schema) -> Check:
        props = {key: self._compile(sub) for key, sub in (schema.get("properties") or {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_check = self._compile(extra) if isinstance(extra, dict) else None
        forbid_extra = extra is False
        required = tuple(schema.get("required") or ())

        def check(value: Any, path: tuple[PathPart, ...], out: list[Violation]) -> None:
            if not isinstance(value, dict):
                return
            for key in required:
                if value.get(key) is None:
                    out.append(Violation((*path, key), "FieldValueRequired", "Required value"))
            for key, item in value.items():
                sub = props.get(key)
                if sub is not None:
                    sub(item, (*path, key), out)
                elif extra_check is not None:
                    extra_check(item, (*path, f"[{key}]"), out)
                elif forbid_extra:
                    out.append(
                        Violation((*path, key), "FieldValueInvalid", f'unknown field "{format_path((*path, key))}"')
                    )

        return check

    @staticmethod
    def _array_check(item_check: Check) -> Check:
        def check(value: Any, path: tuple[PathPart, ...], out: list[Violation]) -> None:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    item_check(item, (*path, index), out)

        return check


@cache
def schemas_for(version: str) -> SchemaSet:
    """One shared ``SchemaSet`` per requested version (loading one takes a fraction of a second)."""
    return SchemaSet(version)
