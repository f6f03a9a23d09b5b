"""Domain errors: raised by services, turned into the API error envelope by the handler."""

from typing import Any


class DomainError(Exception):
    """A business rule said no. ``code`` and ``status_code`` become the API response."""

    code = "bad_request"
    status_code = 400
    default_message = "The request cannot be processed."

    def __init__(self, message: str | None = None, *, extra: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.extra = extra or {}
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status_code = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    status_code = 409
    default_message = "The request conflicts with the current state."


class IdempotencyKeyMismatch(DomainError):
    """An idempotency key came back with a different request (API header or service call)."""

    code = "idempotency_key_mismatch"
    status_code = 422
    default_message = "This idempotency key was already used for a different request."


class InvalidState(DomainError):
    code = "invalid_state"
    status_code = 409
    default_message = "The object is not in a state that allows this."
