"""Project-wide plumbing: schema, docs, metrics, request ids, logs, deploy checks."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from paas.logging import RequestIdFilter, request_id_var

pytestmark = pytest.mark.django_db


def test_openapi_schema_describes_the_api_and_the_jwt_scheme(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert "/api/v1/auth/login" in schema["paths"]
    assert "/api/v1/admin/users/{id}" in schema["paths"]
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


def test_swagger_ui_is_served(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_a_valid_request_id_is_echoed_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-trace").headers["X-Request-ID"] == "abc12345-trace"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline").headers["X-Request-ID"]
    assert len(replaced) == 32 and "\n" not in replaced


def test_json_log_lines_carry_the_request_id():
    json_formatter = JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s")
    record = logging.LogRecord("paas.test", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("req-12345678")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(json_formatter.format(record))
    assert line["request_id"] == "req-12345678" and line["message"] == "hello"


def test_check_deploy_is_clean_with_production_settings():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "paas.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": "prod-" + "k3y-" * 16,
        "ALLOWED_HOSTS": "paas.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://paas.example.com",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        "PAYMENT_GATEWAY": "midtrans",
        "MIDTRANS_SERVER_KEY": "Mid-server-production-key-for-the-check",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _check_with(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "paas.settings.base", **env_overrides}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "prod-" + "k3y-" * 16, "ALLOWED_HOSTS": "paas.example.com"}


def test_production_refuses_to_start_without_choosing_a_payment_gateway():
    result = _check_with(PRODUCTION)
    assert result.returncode != 0
    assert "PAYMENT_GATEWAY" in result.stderr


def test_production_midtrans_needs_its_server_key():
    result = _check_with({**PRODUCTION, "PAYMENT_GATEWAY": "midtrans"})
    assert result.returncode != 0
    assert "MIDTRANS_SERVER_KEY" in result.stderr


def test_deploy_check_warns_about_the_simulator_in_production():
    result = _check_with({**PRODUCTION, "PAYMENT_GATEWAY": "simulator"})
    assert "billing.W001" in result.stderr + result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "paas.settings.base", "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_openapi_schema_generates_without_warnings_and_validates(tmp_path):
    # Warnings mean a field or view the schema cannot describe: clients would see it wrong.
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "s.yaml"),
        ],
        cwd=Path(settings.BASE_DIR),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "paas.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_is_the_json_404_envelope(client, method):
    response = getattr(client, method)("/api/v1/no-such-thing/here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": {}}}
