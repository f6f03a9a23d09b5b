"""API errors as the API server reports them: an HTTP code and a ``Status`` object.

Every failure the emulator answers is an ``ApiError``; ``ApiError.status()`` is the exact body a
client parses (``ApiException.body``), with the reason, message shape and ``details`` of the real
server, so code that branches on ``reason`` or on ``details.causes`` behaves the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# HTTP code -> the StatusReason a real server gives it when nothing more specific applies.
REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass(frozen=True)
class Cause:
    """One entry of ``details.causes``: a field path (``spec.replicas``), a reason and a message."""

    field: str
    reason: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}

    def describe(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass
class ApiError(Exception):
    """A failed API call: ``code`` is the HTTP status, ``reason`` the Status reason."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The Status's ListMeta (an expired continue token's replacement goes in ``continue``).
    metadata: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata or {}),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def qualified(resource: str, group: str) -> str:
    """``deployments.apps`` / ``pods``: how the server names a resource in messages."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details.update(extra)
    return details


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{qualified(resource, group)} "{name}" not found', _details(name, group, resource)
    )


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{qualified(resource, group)} "{name}" already exists', _details(name, group, resource)
    )


def conflict(resource: str, group: str, name: str, message: str | None = None) -> ApiError:
    text = message or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {text}',
        _details(name, group, resource),
    )


def apply_conflict(resource: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    listing = "\n".join(f"- {c.message}" for c in causes)
    plural = "conflict" if len(causes) == 1 else "conflicts"
    return ApiError(
        409,
        "Conflict",
        f"Apply failed with {len(causes)} {plural}: {listing}",
        _details(name, group, resource, causes=[c.as_dict() for c in causes]),
    )


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    described = [c.describe() for c in causes]
    listing = described[0] if len(described) == 1 else "[" + ", ".join(described) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{qualified(kind, group)} "{name}" is invalid: {listing}',
        _details(name, group, kind, causes=[c.as_dict() for c in causes]),
    )


def forbidden(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        403, "Forbidden", f'{qualified(resource, group)} "{name}" is forbidden: {why}', _details(name, group, resource)
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


# What etcd3's store answers for a continue token whose revision was compacted (k8s.io/apiserver
# pkg/storage/etcd3/errors.go, ``inconsistentContinue``), with a token to go on from the latest state.
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show up in the list."
)


def continue_expired(inconsistent_token: str) -> ApiError:
    """410 Gone, reason Expired: a continue token older than the server's history."""
    return ApiError(410, "Expired", CONTINUE_EXPIRED, metadata={"continue": inconsistent_token})


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message, {})


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def from_code(code: int, message: str | None = None, *, retry_after: int | None = None) -> ApiError:
    """A generic failure with the reason a real server attaches to ``code`` (used by fault injection)."""
    reason = REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
    details: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if retry_after is not None:
        details["retryAfterSeconds"] = retry_after
        headers["Retry-After"] = str(retry_after)
    text = message or {
        429: "Too many requests, please try again later.",
        500: "Internal error occurred: injected fault",
        503: "the server is currently unable to handle the request",
        504: "the server was unable to return a response in the time allotted, but may still be processing the request",
    }.get(code, f"injected fault: HTTP {code}")
    return ApiError(code, reason, text, details or None, headers)
