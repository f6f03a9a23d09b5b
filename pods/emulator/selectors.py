"""Label selectors (query-string and object forms) and field selectors.

``parse_label_selector("app=web,tier in (a,b),!legacy")`` and
``LabelSelector.from_object({"matchLabels": ..., "matchExpressions": ...})`` both give a
``LabelSelector``; ``parse_field_selector`` gives a ``FieldSelector``. Syntax errors raise
``SelectorError``, which the API answers as 400 BadRequest like a real server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class SelectorError(ValueError):
    """A selector the API server would refuse to parse."""


def label_key_error(key: str) -> str | None:
    """Why ``key`` is not a valid label/annotation key (``prefix/name``), or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "prefix part must be non-empty"
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return (
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
        )
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _LABEL_NAME.match(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
            "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return None


def label_value_error(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return (
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
            "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        )
    return None


# --- Label selectors ------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """One ANDed term: ``key op values`` with op in, notin, exists, !exists, gt, lt."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op == "notin":
            return not present or labels[self.key] not in self.values
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if not present:
            return False
        try:
            have, bound = int(labels[self.key]), int(next(iter(self.values)))
        except ValueError:
            return False
        return have > bound if self.op == "gt" else have < bound

    def __str__(self) -> str:
        ordered = sorted(self.values)
        if self.op == "in" and len(ordered) == 1:
            return f"{self.key}={ordered[0]}"
        if self.op == "notin" and len(ordered) == 1:
            return f"{self.key}!={ordered[0]}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(ordered)})"
        if self.op == "exists":
            return self.key
        if self.op == "!exists":
            return f"!{self.key}"
        return f"{self.key}{'>' if self.op == 'gt' else '<'}{ordered[0]}"


@dataclass(frozen=True)
class LabelSelector:
    """An AND of requirements. ``everything()`` matches all objects, ``nothing()`` none."""

    requirements: tuple[Requirement, ...] = ()
    matches_nothing: bool = False

    @classmethod
    def everything(cls) -> LabelSelector:
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(matches_nothing=True)

    @classmethod
    def from_object(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """A ``metav1.LabelSelector``. None selects nothing; ``{}`` selects everything."""
        if selector is None:
            return cls.nothing()
        reqs = [Requirement(k, "in", frozenset([v])) for k, v in sorted((selector.get("matchLabels") or {}).items())]
        operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
        for expr in selector.get("matchExpressions") or []:
            op = operators.get(expr.get("operator", ""))
            if op is None:
                raise SelectorError(f"{expr.get('operator')!r} is not a valid label selector operator")
            values = frozenset(expr.get("values") or [])
            if op in ("in", "notin") and not values:
                raise SelectorError("for 'in', 'notin' operators, values set can't be empty")
            if op in ("exists", "!exists") and values:
                raise SelectorError("values set must be empty for exists and does not exist")
            reqs.append(Requirement(expr.get("key", ""), op, values))
        return cls(tuple(reqs))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def is_empty(self) -> bool:
        return not self.requirements and not self.matches_nothing

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|=|!|\(|\)|,|<|>)|(?P<word>[^\s=!(),<>]+))")


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise SelectorError(f"unable to parse requirement: unexpected character at position {pos}")
        tokens.append(match["op"] or match["word"])
        pos = match.end()
    return tokens


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the ``labelSelector`` query parameter (``k=v``, ``k==v``, ``k!=v``, ``k in (..)``,
    ``k notin (..)``, ``k``, ``!k``, ``k>n``, ``k<n``, comma-separated ANDs)."""
    if not text or not text.strip():
        return LabelSelector.everything()
    tokens = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def expect_value(at: int) -> str:
        if at >= len(tokens) or tokens[at] in ("==", "!=", "=", "!", "(", ")", ",", "<", ">"):
            return ""
        return tokens[at]

    while i < len(tokens):
        if tokens[i] == "!":
            key = tokens[i + 1] if i + 1 < len(tokens) else ""
            _check_key(key)
            reqs.append(Requirement(key, "!exists"))
            i += 2
        else:
            key = tokens[i]
            _check_key(key)
            op = tokens[i + 1] if i + 1 < len(tokens) else ","
            if op == ",":
                reqs.append(Requirement(key, "exists"))
                i += 1
            elif op in ("=", "==", "!="):
                value = expect_value(i + 2)
                _check_value(value)
                consumed = 3 if value else 2
                reqs.append(Requirement(key, "notin" if op == "!=" else "in", frozenset([value])))
                i += consumed
            elif op in ("<", ">"):
                value = expect_value(i + 2)
                if not value.lstrip("-").isdigit():
                    raise SelectorError(f"unable to parse requirement: 'Gt' and 'Lt' need an integer, not {value!r}")
                reqs.append(Requirement(key, "gt" if op == ">" else "lt", frozenset([value])))
                i += 3
            elif op in ("in", "notin"):
                if i + 2 >= len(tokens) or tokens[i + 2] != "(":
                    found = tokens[i + 2] if i + 2 < len(tokens) else ""
                    raise SelectorError(f"unable to parse requirement: found '{found}', expected: '('")
                values, j = [], i + 3
                while j < len(tokens) and tokens[j] != ")":
                    if tokens[j] != ",":
                        _check_value(tokens[j])
                        values.append(tokens[j])
                    j += 1
                if j >= len(tokens):
                    raise SelectorError("unable to parse requirement: found '', expected: ')'")
                if not values:
                    raise SelectorError("for 'in', 'notin' operators, values set can't be empty")
                reqs.append(Requirement(key, op, frozenset(values)))
                i = j + 1
            else:
                raise SelectorError(
                    f"unable to parse requirement: found '{op}', expected: in, notin, =, ==, !=, gt, lt"
                )
        if i < len(tokens):
            if tokens[i] != ",":
                raise SelectorError(f"found '{tokens[i]}', expected: ',' or 'end of string'")
            i += 1
    return LabelSelector(tuple(reqs))


def _check_key(key: str) -> None:
    if not key or key in ("==", "!=", "=", "!", "(", ")", ","):
        raise SelectorError("unable to parse requirement: found '', expected: identifier")
    error = label_key_error(key)
    if error:
        raise SelectorError(f'unable to parse requirement: invalid label key "{key}": {error}')


def _check_value(value: str) -> None:
    error = label_value_error(value)
    if error:
        raise SelectorError(f'unable to parse requirement: invalid label value: "{value}": {error}')


# --- Field selectors ------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSelector:
    """An AND of ``field=value`` / ``field!=value`` terms over dotted paths (``status.phase``)."""

    terms: tuple[tuple[str, bool, str], ...] = ()

    def fields(self) -> Iterable[str]:
        return (field for field, _, _ in self.terms)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all((field_value(obj, path) == value) == equal for path, equal, value in self.terms)

    def is_empty(self) -> bool:
        return not self.terms


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string a field selector compares: ``""`` when absent, ``"true"``/``"false"`` for booleans."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if path == "source" and isinstance(node, Mapping):
        node = node.get("component")
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse the ``fieldSelector`` query parameter (``a=b``, ``a==b``, ``a!=b``; ``\\`` escapes)."""
    if not text or not text.strip():
        return FieldSelector()
    terms = []
    for raw in _split_unescaped(text, ","):
        term = raw.strip()
        if not term:
            continue
        for op, equal in (("!=", False), ("==", True), ("=", True)):
            idx = term.find(op)
            if idx > 0:
                terms.append((term[:idx].strip(), equal, term[idx + len(op) :].strip()))
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
    return FieldSelector(tuple(terms))
