"""Request classification: path + method -> verb, group, version, resource, namespace, name.

The same rules as the API server's RequestInfoFactory, so fault rules, the request log and
access reviews speak of ``list pods`` or ``patch deployments/scale`` exactly as RBAC would.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class RequestInfo:
    """What a request addresses. ``is_resource`` is False for discovery, /version, /healthz..."""

    verb: str
    path: str
    is_resource: bool = False
    api_prefix: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()

    @property
    def is_write(self) -> bool:
        return self.is_resource and self.verb in WRITE_VERBS

    @property
    def qualified_resource(self) -> str:
        """``deployments/scale``, ``pods/log``, ``pods``: resource plus subresource."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def classify(method: str, path: str, query: dict[str, str]) -> RequestInfo:
    """Classify a request as RBAC would; non-resource paths get the lower-case method as verb."""
    method = method.upper()
    parts = tuple(unquote(p) for p in path.strip("/").split("/") if p)
    plain = RequestInfo(verb=method.lower(), path=path, parts=parts)
    if not parts or parts[0] not in ("api", "apis"):
        return plain
    if parts[0] == "api":
        if len(parts) < 3:
            return plain
        prefix, group, version, rest = "api", "", parts[1], list(parts[2:])
    else:
        if len(parts) < 4:
            return plain
        prefix, group, version, rest = "apis", parts[1], parts[2], list(parts[3:])

    watch = False
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
        if not rest:
            return plain
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
        else:
            # /namespaces/<name>[/status]: the namespace object itself.
            rest = ["namespaces", *rest[1:]]
            namespace = ""
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        return plain

    if watch or query.get("watch") in ("true", "1"):
        verb = "watch"
    elif method in ("GET", "HEAD"):
        verb = "get" if name else "list"
    elif method == "POST":
        verb = "create"
    elif method == "PUT":
        verb = "update"
    elif method == "PATCH":
        verb = "patch"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = method.lower()
    return RequestInfo(
        verb=verb,
        path=path,
        is_resource=True,
        api_prefix=prefix,
        group=group,
        version=version,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
        parts=parts,
    )
