"""The cluster driver: a thin layer over the official ``kubernetes`` client.

Objects go in and come out as plain dicts (the manifests the templates render, and the JSON the
API server answers), so nothing depends on the client's generated models. Every call has a
timeout, every failure becomes one of ``pods.cluster.errors``, and writes use server-side apply
under one field manager, so applying the same manifest twice changes nothing and another
manager's fields (a ``kubectl rollout restart``) are left alone.

Nothing here knows about Django or the platform's models: ``pods.services`` translates.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client as k8s

from .errors import ClusterError, ClusterRefused, ClusterUnavailable, ObjectConflict, ObjectNotFound, QuotaExceeded
from .kinds import KINDS, Kind

logger = logging.getLogger(__name__)

APPLY = "application/apply-patch+yaml"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Statuses that mean "the API is not answering usefully right now", not "your request is wrong":
# throttling and gateway errors, and 401 (our own credentials are refused: the platform's problem).
_UNAVAILABLE_STATUSES = {401, 429, 502, 503, 504}
# The client's own failures to talk: anything else raised is a bug and propagates as it is.
CLIENT_ERRORS = (k8s.ApiException, urllib3.exceptions.HTTPError, OSError)


def _status_body(body: Any) -> dict:
    try:
        parsed = json.loads(body) if isinstance(body, str | bytes) else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def translate(exc: Exception) -> ClusterError:
    """The ``ClusterError`` for one of ``CLIENT_ERRORS`` the client raised."""
    if isinstance(exc, ClusterError):
        return exc
    if isinstance(exc, k8s.ApiException):
        status = exc.status or 0
        body = _status_body(exc.body)
        message = str(body.get("message") or exc.reason or f"HTTP {status}")[:1000]
        reason = str(body.get("reason") or "")
        if status == 0 or status in _UNAVAILABLE_STATUSES:
            return ClusterUnavailable(
                f"The cluster API is unavailable ({status}): {message}", status=status, reason=reason
            )
        if status == 404:
            return ObjectNotFound(message, status=status, reason=reason or "NotFound")
        if status == 409:
            return ObjectConflict(message, status=status, reason=reason or "Conflict")
        if status == 403 and "exceeded quota" in message:
            return QuotaExceeded(message, status=status, reason="QuotaExceeded")
        return ClusterRefused(message, status=status, reason=reason or f"HTTP{status}")
    # Connection refused, DNS, TLS, connect or read timeout: the API did not answer.
    return ClusterUnavailable(f"The cluster API cannot be reached: {type(exc).__name__}")


def _selector(labels: dict[str, str] | str | None) -> str | None:
    if labels is None or isinstance(labels, str):
        return labels
    return ",".join(f"{key}={value}" for key, value in labels.items())


def rfc3339(moment: datetime) -> str:
    """A timestamp as Kubernetes writes them: UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cluster:
    """One connection to one cluster. Thread-safe as the client's connection pool is."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        timeout: tuple[float, float],
        field_manager: str = "paas",
        page_size: int = 500,
    ):
        self._client = api_client
        self._timeout = timeout
        self.field_manager = field_manager
        self._page_size = page_size
        self._apis: dict[str, Any] = {}

    def with_timeout(self, timeout: tuple[float, float]) -> Cluster:
        """The same connection with other timeouts (shorter ones while a person waits)."""
        other = copy.copy(self)
        other._timeout = timeout
        return other

    @property
    def server(self) -> str:
        return self._client.configuration.host

    # --- plumbing ---------------------------------------------------------------------------

    def _api(self, name: str):
        if name not in self._apis:
            self._apis[name] = getattr(k8s, name)(self._client)
        return self._apis[name]

    def _method(self, kind: Kind, verb: str, *, all_namespaces: bool = False):
        api = self._api(kind.api)
        if not kind.namespaced:
            return getattr(api, f"{verb}_{kind.stem}")
        if all_namespaces:
            return getattr(api, f"{verb}_{kind.stem}_for_all_namespaces")
        return getattr(api, f"{verb}_namespaced_{kind.stem}")

    def _raw(self, method, *args, **kwargs):
        """Call a client method without decoding into models; the urllib3 response, or a ClusterError."""
        try:
            return method(*args, _preload_content=False, _request_timeout=self._timeout, **kwargs)
        except CLIENT_ERRORS as exc:
            raise translate(exc) from exc

    def _json(self, method, *args, **kwargs) -> dict:
        response = self._raw(method, *args, **kwargs)
        try:
            return json.loads(response.data or b"{}")
        except ValueError as exc:
            raise ClusterRefused("The cluster API answered something that is not JSON.") from exc

    @staticmethod
    def _target(manifest: dict) -> tuple[Kind, str, str | None]:
        kind = KINDS[manifest["kind"]]
        meta = manifest["metadata"]
        return kind, meta["name"], meta.get("namespace") if kind.namespaced else None

    # --- reads ------------------------------------------------------------------------------

    def version(self) -> dict:
        return self._json(k8s.VersionApi(self._client).get_code)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """The object, or None when it does not exist."""
        k = KINDS[kind]
        args = (name, namespace) if k.namespaced else (name,)
        try:
            return self._json(self._method(k, "read"), *args)
        except ObjectNotFound:
            return None

    def list(
        self,
        kind: str,
        *,
        namespace: str | None = None,
        labels: dict[str, str] | str | None = None,
        fields: str | None = None,
    ) -> list[dict]:
        """Every object of ``kind`` matching the selectors, in ``namespace`` or all of them,
        fetched a page at a time. Items carry no ``kind``/``apiVersion`` (as the API sends them)."""
        k = KINDS[kind]
        everywhere = k.namespaced and namespace is None
        method = self._method(k, "list", all_namespaces=everywhere)
        args = (namespace,) if k.namespaced and not everywhere else ()
        for _ in range(3):
            items: list[dict] = []
            token = None
            try:
                while True:
                    page = self._json(
                        method,
                        *args,
                        label_selector=_selector(labels),
                        field_selector=fields,
                        limit=self._page_size,
                        _continue=token,
                    )
                    items.extend(page.get("items") or [])
                    token = (page.get("metadata") or {}).get("continue")
                    if not token:
                        return items
            except ClusterRefused as exc:
                # 410 Gone: the continue token outlived the server's history; list again from the start.
                if exc.status != 410 or token is None:
                    raise
        raise ClusterUnavailable(f"Listing {k.plural} kept expiring; the cluster is too busy to page through.")

    def pod_logs(self, namespace: str, pod: str, *, container: str | None = None, tail_lines: int = 100) -> str:
        response = self._raw(
            self._api("CoreV1Api").read_namespaced_pod_log, pod, namespace, container=container, tail_lines=tail_lines
        )
        return (response.data or b"").decode("utf-8", errors="replace")

    def pod_metrics(self, *, namespace: str | None = None, labels: dict[str, str] | str | None = None) -> list[dict]:
        """PodMetrics from the metrics API (metrics-server); empty when it is not installed."""
        api = self._api("CustomObjectsApi")
        try:
            if namespace:
                body = self._json(
                    api.list_namespaced_custom_object,
                    "metrics.k8s.io",
                    "v1beta1",
                    namespace,
                    "pods",
                    label_selector=_selector(labels),
                )
            else:
                body = self._json(
                    api.list_cluster_custom_object,
                    "metrics.k8s.io",
                    "v1beta1",
                    "pods",
                    label_selector=_selector(labels),
                )
        except ObjectNotFound:
            return []
        return body.get("items") or []

    def can_i(self, verb: str, resource: str, *, group: str = "", subresource: str = "") -> tuple[bool, str]:
        """Whether the credentials in use may ``verb`` ``resource`` cluster-wide (SelfSubjectAccessReview)."""
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "group": group,
                    "resource": resource,
                    **({"subresource": subresource} if subresource else {}),
                }
            },
        }
        body = self._json(self._api("AuthorizationV1Api").create_self_subject_access_review, review)
        status = body.get("status") or {}
        return bool(status.get("allowed")), str(status.get("reason") or status.get("evaluationError") or "")

    # --- writes -----------------------------------------------------------------------------

    def apply(self, manifest: dict) -> dict:
        """Server-side apply ``manifest`` under our field manager: create it or bring our fields
        to these values. Fields we applied before and no longer send are removed; other managers'
        fields are kept. ``force`` takes over fields another manager set to other values."""
        kind, name, namespace = self._target(manifest)
        args = (name, namespace) if kind.namespaced else (name,)
        return self._json(
            self._method(kind, "patch"),
            *args,
            manifest,
            field_manager=self.field_manager,
            force=True,
            _content_type=APPLY,
        )

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete one object (its dependents in the background); False when it was already gone."""
        k = KINDS[kind]
        args = (name, namespace) if k.namespaced else (name,)
        try:
            self._raw(self._method(k, "delete"), *args, propagation_policy="Background")
        except ObjectNotFound:
            return False
        return True

    def restart(self, kind: str, name: str, namespace: str, *, at: str) -> None:
        """A rollout restart, as ``kubectl rollout restart`` does it: the pod template's
        ``restartedAt`` annotation set to ``at``. Sending the same ``at`` again changes nothing, so
        a repeated request restarts once. Written under its own field manager, so our next apply
        neither removes it nor sees drift."""
        k = KINDS[kind]
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}
        self._raw(
            self._method(k, "patch"),
            name,
            namespace,
            patch,
            field_manager=f"{self.field_manager}-restart",
            _content_type=STRATEGIC_MERGE,
        )
