"""The REST layer: one parsed HTTP request in, one response out, as the API server answers it.

``Api.handle`` routes discovery and health paths, and for resources dispatches the verb (get,
list, create, update, patch in its four formats, delete, deletecollection) and the subresources
(``status``, ``scale``, ``log``), the virtual kinds (metrics, access reviews), list selectors and
pagination, Table output for kubectl, dry runs and field managers. It knows nothing of sockets:
``server`` feeds it; everything that touches state runs under the emulator's lock.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from . import discovery, logs, metrics, tables
from . import resources as r
from .apply import conflict_causes, manager_from_user_agent
from .errors import (
    ApiError,
    Cause,
    apply_conflict,
    bad_request,
    continue_expired,
    invalid,
    method_not_allowed,
    not_found,
    path_not_found,
)
from .meta import clone
from .patch import PatchError, json_patch, merge_patch
from .registry import WriteOptions
from .resources import ResourceType
from .routing import RequestInfo
from .selectors import LabelSelector, SelectorError, parse_field_selector, parse_label_selector

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger(__name__)

JSON = "application/json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json")
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
WATCH_UNSUPPORTED = "watch is not supported by the Kubernetes API emulator: list (and poll) instead"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    _parsed: Any = field(default=None, repr=False)
    _decoded: bool = field(default=False, repr=False)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self.params.items() if v}

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def document(self) -> Any:
        """The body as JSON (or YAML for apply patches); raises 400 on anything unparsable."""
        if not self._decoded:
            self._parsed = _decode(self.body, self.content_type)
            self._decoded = True
        return self._parsed

    def document_or_none(self) -> Any:
        try:
            return self.document()
        except ApiError:
            return None


def _decode(body: bytes, content_type: str) -> Any:
    if not body.strip():
        return None
    if "protobuf" in content_type or "cbor" in content_type:
        raise ApiError(
            415, "UnsupportedMediaType", f"the body of the request was in an unknown format - {content_type}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(f"the body of the request is not UTF-8: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if "yaml" not in content_type:
            raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise bad_request(f"error converting YAML to JSON: {exc}") from exc


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, doc: Any) -> Response:
        return cls(status, json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, text.encode(), "text/plain; charset=utf-8")

    @classmethod
    def error(cls, exc: ApiError) -> Response:
        response = cls.json(exc.code, exc.status())
        response.headers.update(exc.headers)
        return response


def _item(obj: dict[str, Any]) -> dict[str, Any]:
    """A list item: a real server leaves out ``kind`` and ``apiVersion``."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


# The revision of a token that continues at the latest state (what a 410 Expired hands out):
# it cannot expire.
LATEST = -1


@dataclass(frozen=True)
class _Continue:
    """What a continue token holds: where the list stopped, at which revision, issued when."""

    namespace: str
    name: str
    revision: int
    issued: float | None


def _encode_continue(revision: int, namespace: str, name: str, issued: float | None) -> str:
    doc: dict[str, Any] = {"v": 1, "rv": revision, "start": [namespace, name]}
    if issued is not None:
        doc["t"] = issued
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> _Continue:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
        namespace, name = doc["start"]
        issued = doc.get("t")
        return _Continue(
            str(namespace), str(name), int(doc.get("rv", LATEST)), float(issued) if issued is not None else None
        )
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise bad_request(f"continue key is not valid: {exc}") from exc


def _scale_of(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    selector = LabelSelector.from_object((obj.get("spec") or {}).get("selector") or {})
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace", ""),
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
        "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": str(selector)},
    }


class Api:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    # --- entry point ----------------------------------------------------------------------

    def handle(self, request: Request, info: RequestInfo) -> Response:
        try:
            if not info.is_resource:
                return self._non_resource(request, info)
            with self.emulator.lock:
                return self._resource(request, info)
        except ApiError as exc:
            return Response.error(exc)
        except SelectorError as exc:
            return Response.error(bad_request(str(exc)))
        except Exception as exc:  # an emulator bug: answer like a server would, and say where
            log.exception("internal error serving %s %s", request.method, request.path)
            return Response.error(ApiError(500, "InternalError", f"Internal error occurred: {exc!r}", {}))

    # --- non-resource paths ---------------------------------------------------------------

    def _non_resource(self, request: Request, info: RequestInfo) -> Response:
        path = "/" + "/".join(info.parts)
        if path.startswith(HEALTH_PATHS):
            return Response.text(200, "ok")
        if request.method not in ("GET", "HEAD"):
            raise method_not_allowed()
        doc: dict[str, Any] | None = None
        if path == "/version":
            doc = discovery.version_info(self.emulator.kubernetes_version)
        elif path == "/api":
            doc = discovery.api_versions(request.headers.get("host", "127.0.0.1"))
        elif path == "/apis":
            doc = discovery.api_group_list()
        elif path == "/api/v1":
            doc = discovery.api_resource_list("", "v1")
        elif len(info.parts) == 2 and info.parts[0] == "apis":
            doc = discovery.api_group(info.parts[1])
        elif len(info.parts) == 3 and info.parts[0] == "apis":
            doc = discovery.api_resource_list(info.parts[1], info.parts[2])
        if doc is None:
            raise path_not_found()
        return Response.json(200, doc)

    # --- resources ------------------------------------------------------------------------

    def _resource(self, request: Request, info: RequestInfo) -> Response:
        rt = r.lookup(info.group, info.version, info.resource)
        if rt is None or (info.namespace and not rt.namespaced):
            raise path_not_found()
        if info.verb == "watch":
            raise method_not_allowed(WATCH_UNSUPPORTED)
        if rt.namespaced and not info.namespace and info.verb not in ("list", "create") and not rt.virtual:
            raise path_not_found()
        if info.subresource:
            return self._subresource(rt, request, info)
        if info.verb not in rt.verbs:
            raise method_not_allowed()
        if rt.kind in ("PodMetrics", "NodeMetrics"):
            return self._metrics(rt, request, info)
        if rt.kind == "SelfSubjectAccessReview":
            return self._access_review(rt, request)
        if rt.namespaced and not info.namespace and info.verb == "create":
            raise method_not_allowed()
        handler: dict[str, Callable[[ResourceType, Request, RequestInfo], Response]] = {
            "get": self._get,
            "list": self._list,
            "create": self._create,
            "update": self._update,
            "patch": self._patch,
            "delete": self._delete,
            "deletecollection": self._delete_collection,
        }
        return handler[info.verb](rt, request, info)

    def _options(self, request: Request) -> WriteOptions:
        values = request.params.get("dryRun", [])
        for value in values:
            if value != "All":
                raise bad_request(f'Invalid dry run value: "{value}": supported values: "All"')
        manager = request.query.get("fieldManager") or manager_from_user_agent(request.headers.get("user-agent"))
        validation = request.query.get("fieldValidation", "Strict")
        if validation not in ("Ignore", "Warn", "Strict"):
            raise bad_request(
                f'fieldValidation: Unsupported value: "{validation}": supported values: "Ignore", "Strict", "Warn"'
            )
        return WriteOptions(manager=manager, dry_run=bool(values), ignore_unknown_fields=validation == "Ignore")

    def _body(self, request: Request) -> dict[str, Any]:
        doc = request.document()
        if not isinstance(doc, dict):
            raise bad_request("the body of the request was in an unknown format - expected a JSON object")
        return doc

    # --- reads ----------------------------------------------------------------------------

    def _filtered(self, rt: ResourceType, request: Request, namespace: str) -> list[dict[str, Any]]:
        query = request.query
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"))
        for name in fields.fields():
            if not rt.supports_field(name):
                raise bad_request(f"field label not supported: {name}")
        objects = self.emulator.store.list(rt, namespace or None)
        if not labels.is_empty():
            objects = [o for o in objects if labels.matches(o["metadata"].get("labels"))]
        if not fields.is_empty():
            objects = [o for o in objects if fields.matches(o)]
        return objects

    def _list(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        query = request.query
        objects = self._filtered(rt, request, info.namespace)
        revision = self.emulator.store.revision
        list_meta: dict[str, Any] = {"resourceVersion": str(revision)}
        token = query.get("continue")
        now = self.emulator.clock()
        if token:
            cont = _decode_continue(token)
            ttl = self.emulator.settings.continue_token_ttl
            if ttl is not None and cont.revision != LATEST and cont.issued is not None and now - cont.issued >= ttl:
                # Its revision is gone from the history (an etcd compaction on a real server).
                raise continue_expired(_encode_continue(LATEST, cont.namespace, cont.name, None))
            start = (cont.namespace, cont.name)
            objects = [o for o in objects if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
        limit = query.get("limit", "")
        if limit.isdigit() and int(limit) > 0 and len(objects) > int(limit):
            remaining = len(objects) - int(limit)
            objects = objects[: int(limit)]
            last = objects[-1]["metadata"]
            list_meta["continue"] = _encode_continue(revision, last.get("namespace", ""), last["name"], now)
            if "labelSelector" not in query and "fieldSelector" not in query:
                list_meta["remainingItemCount"] = remaining
        if tables.wants_table(request.headers.get("accept", "")):
            return Response.json(200, tables.table(rt, objects, self.emulator.clock(), list_meta))
        return Response.json(
            200,
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version,
                "metadata": list_meta,
                "items": [_item(o) for o in objects],
            },
        )

    def _get(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        obj = self.emulator.registry.get(rt, info.namespace, info.name)
        if tables.wants_table(request.headers.get("accept", "")):
            return Response.json(
                200,
                tables.table(rt, [obj], self.emulator.clock(), {"resourceVersion": obj["metadata"]["resourceVersion"]}),
            )
        return Response.json(200, obj)

    # --- writes ---------------------------------------------------------------------------

    def _create(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        obj = self.emulator.registry.create(rt, clone(self._body(request)), info.namespace, self._options(request))
        return Response.json(201, obj)

    def _update(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        body = clone(self._body(request))
        obj = self.emulator.registry.update(rt, body, info.namespace, info.name, self._options(request))
        return Response.json(200, obj)

    def _patched(self, rt: ResourceType, base: dict[str, Any], request: Request) -> dict[str, Any]:
        """``base`` (a copy of the stored object) with the request's patch applied."""
        content_type = request.content_type
        if content_type not in PATCH_TYPES:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{', '.join(PATCH_TYPES)}, {APPLY}",
            )
        doc = request.document()
        try:
            if content_type == "application/json-patch+json":
                if not isinstance(doc, list):
                    raise bad_request("the JSON Patch body must be a list of operations")
                patched = json_patch(base, doc)
            elif content_type == "application/merge-patch+json":
                if not isinstance(doc, dict):
                    raise bad_request("the merge patch body must be a JSON object")
                patched = merge_patch(base, doc)
            else:
                patched = self.emulator.registry.strategic.apply(base, doc)
        except PatchError as exc:
            raise ApiError(
                422, "Invalid", f"the server rejected our request due to an error in our request: {exc}", {}
            ) from exc
        if not isinstance(patched, dict):
            raise ApiError(422, "Invalid", "the patch does not leave an object", {})
        return patched

    def _patch(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        registry = self.emulator.registry
        opts = self._options(request)
        if request.content_type == APPLY:
            return self._apply(rt, request, info, opts)
        existing = registry.get(rt, info.namespace, info.name)
        patched = self._patched(rt, clone(existing), request)
        return Response.json(200, registry.update(rt, patched, info.namespace, info.name, opts))

    def _apply(self, rt: ResourceType, request: Request, info: RequestInfo, opts: WriteOptions) -> Response:
        registry = self.emulator.registry
        manager = request.query.get("fieldManager")
        if not manager:
            raise bad_request(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
            )
        applied = clone(self._body(request))
        if applied.get("apiVersion") != rt.api_version or applied.get("kind") != rt.kind:
            raise bad_request(
                f"apply patches must name apiVersion {rt.api_version!r} and kind {rt.kind!r} "
                f"(got {applied.get('apiVersion')!r}, {applied.get('kind')!r})"
            )
        meta = applied.get("metadata")
        if not isinstance(meta, dict) or meta.get("name") != info.name:
            raise bad_request(
                f"the name of the object ({(meta or {}).get('name')}) does not match the name on the URL ({info.name})"
            )
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != info.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = info.namespace
        if rt.has_status:
            applied.pop("status", None)
        causes = registry.validator.structural(applied, ignore_unknown=opts.ignore_unknown_fields)
        if causes:
            raise invalid(rt.kind, rt.group, info.name, causes)
        opts = WriteOptions(manager=manager, dry_run=opts.dry_run, ignore_unknown_fields=opts.ignore_unknown_fields)
        force = request.query.get("force") == "true"
        now = self.emulator.clock()
        existing = self.emulator.store.get(rt, info.namespace if rt.namespaced else "", info.name)
        live = clone(existing) if existing is not None else None
        merged, conflicts = registry.fields.apply(live, applied, manager, force=force, now=now)
        if conflicts:
            raise apply_conflict(rt.plural, rt.group, info.name, list(conflict_causes(conflicts)))
        managed = merged["metadata"].get("managedFields") or []
        if existing is None:
            return Response.json(201, registry.create(rt, merged, info.namespace, opts, managed_fields=managed))
        return Response.json(200, registry.update(rt, merged, info.namespace, info.name, opts, managed_fields=managed))

    def _delete(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        obj, gone = self._delete_one(rt, request, info.namespace, info.name)
        if not gone or rt.delete_returns_object:
            return Response.json(200, obj)
        details = {"name": info.name, "kind": rt.plural, "uid": obj["metadata"].get("uid", "")}
        if rt.group:
            details["group"] = rt.group
        return Response.json(
            200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        )

    def _delete_one(self, rt: ResourceType, request: Request, namespace: str, name: str) -> tuple[dict[str, Any], bool]:
        options = request.document() if request.body.strip() else {}
        if not isinstance(options, dict):
            raise bad_request("DeleteOptions must be a JSON object")
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy")
        if propagation is None and options.get("orphanDependents") is True:
            propagation = "Orphan"
        dry_run = bool(request.params.get("dryRun")) or "All" in (options.get("dryRun") or [])
        self._options(request)  # validates dryRun values
        return self.emulator.registry.delete(
            rt, namespace, name, propagation=propagation, preconditions=options.get("preconditions"), dry_run=dry_run
        )

    def _delete_collection(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        deleted = []
        for obj in self._filtered(rt, request, info.namespace):
            meta = obj["metadata"]
            try:
                result, _ = self._delete_one(rt, request, meta.get("namespace", ""), meta["name"])
            except ApiError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(_item(result))
        meta = {"resourceVersion": str(self.emulator.store.revision)}
        return Response.json(
            200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": meta, "items": deleted}
        )

    # --- subresources ---------------------------------------------------------------------

    def _subresource(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        sub = rt.subresource(info.subresource)
        if sub is None or not info.name:
            raise path_not_found()
        if info.verb not in sub.verbs:
            raise method_not_allowed()
        registry = self.emulator.registry
        if sub.name == "log":
            pod = registry.get(rt, info.namespace, info.name)
            return Response.text(200, logs.pod_log(pod, request.query, self.emulator.clock()))
        if sub.name == "scale":
            return self._scale(rt, request, info)
        existing = registry.get(rt, info.namespace, info.name)
        if info.verb == "get":
            return Response.json(200, existing)
        opts = self._options(request)
        if info.verb == "update":
            body = clone(self._body(request))
        elif request.content_type == APPLY:
            body = merge_patch(clone(existing), self._body(request))
        else:
            body = self._patched(rt, clone(existing), request)
        return Response.json(200, registry.update_status(rt, info.namespace, info.name, body, opts))

    def _scale(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        registry = self.emulator.registry
        parent = registry.get(rt, info.namespace, info.name)
        scale = _scale_of(rt, parent)
        if info.verb == "get":
            return Response.json(200, scale)
        opts = self._options(request)
        if info.verb == "update":
            wanted = self._body(request)
        elif request.content_type == APPLY:
            wanted = merge_patch(scale, self._body(request))
        else:
            wanted = self._patched(rt, scale, request)
        replicas = (wanted.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid(
                "Scale",
                "autoscaling",
                info.name,
                [
                    Cause(
                        "spec.replicas",
                        "FieldValueInvalid",
                        f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0",
                    )
                ],
            )
        rv = (wanted.get("metadata") or {}).get("resourceVersion")
        updated = clone(parent)
        updated["spec"]["replicas"] = replicas
        updated["metadata"]["resourceVersion"] = rv or parent["metadata"]["resourceVersion"]
        stored = registry.update(rt, updated, info.namespace, info.name, opts)
        return Response.json(200, _scale_of(rt, stored))

    # --- virtual kinds --------------------------------------------------------------------

    def _metrics(self, rt: ResourceType, request: Request, info: RequestInfo) -> Response:
        store, now = self.emulator.store, self.emulator.clock()
        labels = parse_label_selector(request.query.get("labelSelector"))
        if rt.kind == "PodMetrics":
            if info.name:
                pod = store.get(r.PODS, info.namespace, info.name)
                doc = metrics.pod_metrics(pod, now) if pod is not None else None
                if doc is None:
                    raise not_found("pods", rt.group, info.name)
                return Response.json(200, doc)
            pods = [
                p for p in store.list(r.PODS, info.namespace or None) if labels.matches(p["metadata"].get("labels"))
            ]
            items = [m for m in (metrics.pod_metrics(p, now) for p in pods) if m is not None]
        else:
            nodes = store.list(r.NODES)
            by_node: dict[str, list[dict[str, Any]]] = {}
            for pod in store.iter(r.PODS):
                by_node.setdefault(pod["spec"].get("nodeName") or "", []).append(pod)
            if info.name:
                node = store.get(r.NODES, "", info.name)
                if node is None:
                    raise not_found("nodes", rt.group, info.name)
                return Response.json(200, metrics.node_metrics(node, by_node.get(info.name, []), now))
            items = [
                metrics.node_metrics(n, by_node.get(n["metadata"]["name"], []), now)
                for n in nodes
                if labels.matches(n["metadata"].get("labels"))
            ]
        return Response.json(
            200,
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version,
                "metadata": {},
                "items": [_item(i) for i in items],
            },
        )

    def _access_review(self, rt: ResourceType, request: Request) -> Response:
        body = clone(self._body(request))
        body.setdefault("metadata", {})
        body["apiVersion"], body["kind"] = rt.api_version, rt.kind
        causes = self.emulator.registry.validator.structural(body)
        if causes:
            raise invalid(rt.kind, rt.group, "", causes)
        spec = body.get("spec") or {}
        if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
            raise invalid(
                rt.kind,
                rt.group,
                "",
                [
                    Cause(
                        "spec.resourceAttributes",
                        "FieldValueRequired",
                        "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    )
                ],
            )
        return Response.json(201, self.emulator.access.review(body))
