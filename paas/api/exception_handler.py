"""Every API error leaves in one envelope: ``{"error": {"code", "message", "details"}}``.

Domain errors carry their own code and status; Django's and DRF's exceptions are reshaped; an
unreachable database or Redis is a 503. Anything else is a bug and stays a 500 (logged with its
traceback by DRF's caller).
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from paas.exceptions import DomainError

logger = logging.getLogger(__name__)

_CODES_BY_CLASS = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "bad_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}

_DEFAULT_MESSAGES = {
    "validation_error": "The request has invalid fields.",
    "bad_request": "The request could not be understood.",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _django_validation_details(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _code_for(exc: exceptions.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in _CODES_BY_CLASS:
            return _CODES_BY_CLASS[cls]
    return exc.default_code if isinstance(exc.default_code, str) else "error"


def _drf_body(exc: exceptions.APIException) -> dict:
    code = _code_for(exc)
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return error_body(code, _DEFAULT_MESSAGES[code], details)
    details: dict = {}
    if isinstance(detail, dict):
        # simplejwt's InvalidToken: {"detail", "code", "messages"}.
        message = str(detail.get("detail", "")) or exc.default_detail
        if isinstance(detail.get("code"), str):
            code = detail["code"]
    elif isinstance(detail, list):
        message = " ".join(str(d) for d in detail)
    else:
        message = str(detail)
        # Some views raise AuthenticationFailed(code="invalid_credentials") to name the case.
        specific = getattr(detail, "code", None)
        if specific and specific not in {exc.default_code, "invalid", "error"} and code != "throttled":
            code = specific
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        details["retry_after"] = int(exc.wait)
    return error_body(code, message, details)


# A dependency that cannot be reached right now (a dropped or refused database connection, Redis
# down) is not a bug: 503 asks the client (and Midtrans, for notifications) to retry.
_UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_SECONDS = 5


def exception_handler(exc, context):
    if isinstance(exc, _UNAVAILABLE):
        logger.warning("dependency unavailable: %s", type(exc).__name__, exc_info=True)
        return Response(
            error_body("service_unavailable", "A service the platform depends on is unavailable; retry shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            error_body("validation_error", _DEFAULT_MESSAGES["validation_error"], _django_validation_details(exc)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RequestDataTooBig):
        # Raised by Django when DRF reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE.
        return Response(
            error_body("request_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        # Django would answer its HTML 400 page; the reason goes to the security log only.
        logger.warning("suspicious request refused: %s", type(exc).__name__)
        exc = exceptions.ParseError()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django answers 500 through handler500
    response.data = _drf_body(exc)
    return response
