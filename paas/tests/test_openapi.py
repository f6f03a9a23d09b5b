"""The OpenAPI schema tells the truth about errors: every operation lists the statuses it can
answer, each with the error envelope (``paas.api.schema``). That these statuses are the ones the
server really sends is what the fuzz tests check (``test_fuzz.py``)."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def error_statuses(operation) -> set[str]:
    return {code for code in operation["responses"] if code >= "400"}


def test_every_operation_documents_its_errors_in_the_envelope(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert error_statuses(operation), f"{method} {path} documents no error"
            for code in error_statuses(operation):
                response = operation["responses"][code]
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/v1/billing/balance", "get", {"401", "503"}),
        ("/api/v1/services/{id_or_slug}", "get", {"404", "503"}),
        ("/api/v1/admin/billing/summary", "get", {"401", "403", "503"}),
        ("/api/v1/auth/login", "post", {"400", "401", "413", "415", "429", "503"}),
        ("/api/v1/subscriptions", "post", {"400", "401", "402", "409", "413", "415", "422", "429", "503"}),
        ("/api/v1/admin/pods/{id}/logs", "get", {"400", "401", "403", "404", "409", "502", "503"}),
    ],
)
def test_error_statuses_follow_from_the_view(schema, path, method, expected):
    operation = schema["paths"][path][method]
    assert error_statuses(operation) == expected
    if "429" in expected:
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True


def test_idempotent_operations_document_their_header(schema):
    idempotent = {
        f"{method} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert "post /api/v1/billing/topups" in idempotent
    assert "post /api/v1/subscriptions" in idempotent
    assert "post /api/v1/subscriptions/{id}/renew" in idempotent
    assert "patch /api/v1/subscriptions/{id}" not in idempotent


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_an_unknown_api_path_is_a_json_404_even_with_csrf_checks(method):
    # A browser-like client (CSRF enforced, no cookie) once got Django's HTML 403 page here.
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/admin/services/x.y/plans")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"name": 7},  # DRF would store "7"
        {"name": "  " + "x" * 149},  # over the schema's maxLength as sent, though not once trimmed
        {"name": "Ana", "nickname": "A"},  # a field the body does not declare
    ],
)
def test_a_strict_body_refuses_what_its_schema_does(user_client, user, schema, body):
    request = schema["components"]["schemas"]["PatchedProfileUpdateInputRequest"]
    assert request["additionalProperties"] is False and request["properties"]["name"]["maxLength"] == 150
    response = user_client.patch("/api/v1/auth/me", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    user.refresh_from_db()
    assert user.name != "7" and not user.name.endswith("x")
