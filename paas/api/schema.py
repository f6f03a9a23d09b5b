"""The OpenAPI schema's error responses, in one place (a drf-spectacular postprocessing hook).

Every operation documents the ``Error`` envelope (``paas.api.exception_handler``) under each status
it can really answer. Most statuses follow from the view itself:

- 400 for anything that reads input (a body, a query or header parameter, an ``Idempotency-Key``);
- 401 where an authenticator runs (a missing, expired or revoked token) or a credential is checked;
- 403 behind the administrator permission; 404 for a path id, and for a page past the last one;
- 413 and 415 for a body; 429 where a throttle counts the request;
- 409 and 422 for ``Idempotency-Key`` (in use, reused for another request), and the header itself;
- 503 everywhere: the database or Redis may be unreachable.

The statuses only services know about (402, 409, 502...) are listed per operation in
``DOMAIN_ERRORS``. The fuzz tests (``paas/tests/test_fuzz.py``) fail on any status an operation
answers without documenting it, and provoke each of these on purpose, so this table cannot
silently fall behind the code. The hook also closes the body schemas of ``StrictInputSerializer``
(``additionalProperties: false``): those bodies refuse fields they do not declare.
"""

import inspect

from rest_framework.throttling import SimpleRateThrottle

from paas.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from paas.api.idempotency import idempotent
from paas.api.permissions import IsAdministrator
from paas.api.serializers import StrictInputSerializer

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error has this body, whatever raised it.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Machine-readable and stable, in snake_case: branch on it, not on the message.",
                    "example": "validation_error",
                },
                "message": {"type": "string", "description": "A sentence for people; it may change."},
                "details": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "For `validation_error`, each invalid field (or `non_field_errors`) with its "
                    "messages; otherwise facts about the refusal (`balance` and `required` for "
                    "`insufficient_balance`, `retry_after` for `throttled`), often empty.",
                },
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

GENERIC = {
    400: "`validation_error` (`details`: each invalid field with its messages) or `bad_request` "
    "(a body that is not JSON).",
    401: "`not_authenticated` or `token_not_valid`: the access token is missing, expired or revoked.",
    402: "`insufficient_balance`: the balance does not cover it (`details`: `balance`, `required`). "
    "Nothing was charged or created.",
    403: "`permission_denied`: the administrator role is required.",
    404: "`not_found`: no such object, or not yours.",
    413: "`request_too_large`: the body is over the size limit.",
    415: "`unsupported_media_type`: send `Content-Type: application/json`.",
    422: "`idempotency_key_mismatch`: this `Idempotency-Key` was used for a different request.",
    429: "`throttled`: too many requests; retry after `Retry-After` seconds.",
    503: "`service_unavailable`: the database or Redis cannot be reached right now; retry after `Retry-After` seconds.",
}

# What only the services know: statuses (beyond those the view implies) per operation id.
DOMAIN_ERRORS: dict[str, dict[int, str]] = {
    "auth_login_create": {401: "`invalid_credentials`: wrong email or password, or a deactivated account."},
    "auth_logout_create": {401: "`token_not_valid`: the refresh token is invalid, expired or already revoked."},
    "auth_refresh_create": {401: "`token_not_valid`: the refresh token is invalid, expired or already used."},
    "workers_register_create": {401: "`not_authenticated`: the join token is missing or wrong."},
    "workers_heartbeat_create": {401: "`not_authenticated`: the node token is missing or wrong."},
    "billing_midtrans_notification_create": {
        403: "`invalid_signature`: the `signature_key` does not match; nothing changed.",
        404: "`not_found`: no top-up has this `order_id`.",
        503: "`payment_gateway_unavailable`: the status API could not confirm it; Midtrans sends it again.",
    },
    "billing_topups_create": {
        502: "`payment_gateway_error`: the payment gateway refused or did not answer; the top-up is kept as FAILED.",
    },
    "admin_billing_adjustments_create": {
        402: "`insufficient_balance`: a debit cannot take the balance below zero.",
        404: "`not_found`: no such user.",
    },
    "admin_billing_transactions_refund_create": {
        402: "`insufficient_balance`: refunding a top-up cannot take the balance below zero.",
        409: "`already_refunded` or `invalid_state` (only completed top-ups and charges are refundable).",
    },
    "subscriptions_create": {
        402: GENERIC[402],
        409: "`no_capacity` (the cluster has no room for the plan) or `subscription_limit_reached`.",
    },
    "subscriptions_renew_create": {402: GENERIC[402], 409: "`invalid_state`: it can no longer be renewed."},
    "subscriptions_change_plan_create": {402: GENERIC[402], 409: "`invalid_state` or `no_capacity`."},
    "subscriptions_cancel_create": {409: "`invalid_state`: it is already over."},
    "subscriptions_instance_restart_create": {409: "`invalid_state`: the subscription or its app forbids it."},
    "subscriptions_instance_start_create": {409: "`invalid_state`: the subscription or its app forbids it."},
    "subscriptions_instance_stop_create": {409: "`invalid_state`: the subscription or its app forbids it."},
    "subscriptions_instance_logs_retrieve": {
        409: "`invalid_state`: the app is not running, so it has no logs.",
        502: "`cluster_error`: the cluster could not be read; retry.",
    },
    "admin_pods_logs_retrieve": {
        409: "`invalid_state`: the app is not running, so it has no logs.",
        502: "`cluster_error`: the cluster could not be read; retry.",
    },
    "admin_pods_restart_create": {409: "`invalid_state`: e.g. a stopped or deleted instance."},
    "admin_pods_start_create": {409: "`invalid_state`: e.g. a deleted instance."},
    "admin_pods_stop_create": {409: "`invalid_state`: e.g. a deleted instance."},
    "admin_pods_restore_create": {409: "`invalid_state`: not deleted, or past the retention window."},
    "admin_pods_reconcile_create": {404: "`not_found`: no such instance."},
    "admin_services_destroy": {409: "`conflict`: the service still has plans; deactivate it instead."},
    "admin_services_plans_destroy": {409: "`conflict`: subscriptions use the plan; deactivate it instead."},
    "admin_users_partial_update": {409: "`conflict`: administrators cannot deactivate or demote themselves."},
    "admin_users_destroy": {409: "`conflict`: administrators cannot deactivate themselves."},
    "webhooks_create": {409: "`limit_reached`: the account has as many endpoints as allowed."},
}

# Every view method wrapped by ``@idempotent`` runs the same wrapper code: that is how to spot one.
_IDEMPOTENT_CODE = idempotent(lambda self, request: None).__code__

IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "1 to 255 visible ASCII characters. The same key from the same user within 24 hours "
    "returns the first response again (with `Idempotent-Replayed: true`) and does nothing twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def _handler(view, method: str):
    action = getattr(view, "action", None)
    return getattr(view, action or method.lower(), None)


def _is_idempotent(view, method: str) -> bool:
    return getattr(_handler(view, method), "__code__", None) is _IDEMPOTENT_CODE


def _is_throttled(view, method: str) -> bool:
    """Whether a throttle counts this operation's requests, and so may answer 429."""
    action = getattr(view, "action", None) or method.lower()
    for throttle in view.get_throttles():
        if not isinstance(throttle, SimpleRateThrottle) or getattr(throttle, "rate", None):
            return True
        # Scoped throttles count only what the view names: every request (``throttle_scope``), or
        # the actions it maps to a per-user scope (``user_throttle_scopes``).
        if getattr(view, "throttle_scope", None) or action in getattr(view, "user_throttle_scopes", {}):
            return True
    return False


def _statuses(view, method: str, operation: dict) -> dict[int, str]:
    """The error statuses ``view`` can answer for ``method``, with what each means there."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    idempotent_ = _is_idempotent(view, method)
    statuses: dict[int, str] = {}
    if has_body or idempotent_ or any(p["in"] in ("query", "header") for p in parameters):
        statuses[400] = GENERIC[400]
    if view.get_authenticators():
        statuses[401] = GENERIC[401]
    if any(isinstance(p, IsAdministrator) for p in view.get_permissions()):
        statuses[403] = GENERIC[403]
    if any(p["in"] == "path" for p in parameters):
        statuses[404] = GENERIC[404]
    if any(p["in"] == "query" and p["name"] == "page" for p in parameters):
        statuses[404] = " ".join(filter(None, [statuses.get(404), "`not_found`: `page` is past the last page."]))
    if idempotent_:
        statuses[400] += " Or `invalid_idempotency_key`: the header is not 1 to 255 visible ASCII characters."
        statuses[409] = "`idempotency_key_in_use`: a request with this key is still being processed."
        statuses[422] = GENERIC[422]
    if has_body or idempotent_:
        statuses[413] = GENERIC[413]
        statuses[415] = GENERIC[415]
    if _is_throttled(view, method):
        statuses[429] = GENERIC[429]
    # Any request may meet an unreachable database or Redis (paas.api.exception_handler).
    statuses[503] = GENERIC[503]
    for status, text in DOMAIN_ERRORS.get(operation["operationId"], {}).items():
        # The conflicts and outages every such operation can meet stay documented next to the domain's own.
        merge = (status == 409 and idempotent_) or status == 503
        statuses[status] = f"{statuses[status]} Or {text}" if merge else text
    return statuses


def _error_response(status: int, text: str, ref: dict) -> dict:
    response = {"description": text, "content": {"application/json": {"schema": ref}}}
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "required": status == 429, "schema": {"type": "integer"}}
        }
    return response


def _close_strict_inputs(result, generator) -> None:
    """A ``StrictInputSerializer`` refuses fields it does not declare: say so in its schema."""
    schemas = result.get("components", {}).get("schemas", {})
    # drf-spectacular keeps no public index of components by serializer: read its registry.
    for component in generator.registry._components.values():
        serializer = component.object if inspect.isclass(component.object) else type(component.object)
        if issubclass(serializer, StrictInputSerializer) and component.name in schemas:
            schemas[component.name]["additionalProperties"] = False


def postprocess_error_responses(result, generator, request, public):
    """Add the ``Error`` component and, to every operation, the error responses it can answer;
    close the schemas of bodies that refuse unknown fields."""
    _close_strict_inputs(result, generator)
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    paths = result.get("paths", {})
    for path, _, method, callback in generator.endpoints or []:
        view = generator.create_view(callback, method)
        operation = paths.get(generator.coerce_path(path, method, view), {}).get(method.lower())
        if operation is None:
            continue
        if _is_idempotent(view, method):
            operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
        for status, text in sorted(_statuses(view, method, operation).items()):
            operation["responses"].setdefault(str(status), _error_response(status, text, ref))
    return result
