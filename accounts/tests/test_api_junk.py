"""Junk in, a 4xx envelope out, and nothing changed: every accounts endpoint, field by field."""

import json

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from kombu import Producer
from kombu.exceptions import OperationalError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.test_api import STRONG, assert_envelope
from conftest import client_for
from notifications.models import EmailMessage
from paas.celery import app as celery_app

pytestmark = pytest.mark.django_db

API = "/api/v1"

# Values no string field may accept. NUL is refused by PostgreSQL text columns; a lone surrogate
# cannot be encoded as UTF-8 (nor rendered back in an error message).
JUNK_VALUES = [None, [], ["a"], {"nested": "object"}, "x" * 100_000, "a\u0000b@example.com", "\ud800", "a\udfffb"]

# Whole bodies that are not a JSON object of fields, with the status each must get.
JUNK_BODIES = [
    (b"[]", "application/json", 400),
    (b"null", "application/json", 400),
    (b'"just a string"', "application/json", 400),
    (b"\xff\xfe{\x00", "application/json", 400),
    (b'{"email": "a@example.com"', "application/json", 400),
    (b'{"\\ud800": "lone surrogate as a key"}', "application/json", 400),
    (b'{"email": "\\udc00@example.com", "password": "\\ud83d", "name": "\\ud800"}', "application/json", 400),
    (b'{"email": NaN}', "application/json", 400),
    (b'{"email": "a@example.com"}', "text/plain", 415),
    (b"email=a%40example.com", "application/x-www-form-urlencoded", 415),
]


def _state() -> tuple:
    users = sorted(User.objects.values_list("id", "email", "name", "role", "is_active", "password", "last_login"))
    return users, OutstandingToken.objects.count(), BlacklistedToken.objects.count(), EmailMessage.objects.count()


@pytest.fixture
def endpoints(api_client, user, admin_user):
    """name -> (client, method, url, a valid body): each junk case spoils one field of it."""
    refresh = str(RefreshToken.for_user(user))
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    user_client, admin_client = client_for(user), client_for(admin_user)
    return {
        "register": (
            api_client,
            "post",
            "auth/register",
            {"email": "new@example.com", "password": STRONG, "name": "N"},
        ),
        "login": (api_client, "post", "auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}),
        "refresh": (api_client, "post", "auth/refresh", {"refresh": refresh}),
        "logout": (api_client, "post", "auth/logout", {"refresh": refresh}),
        "me": (user_client, "patch", "auth/me", {"name": "Renamed"}),
        "change-password": (
            user_client,
            "post",
            "auth/change-password",
            {"current_password": DEFAULT_PASSWORD, "new_password": STRONG},
        ),
        "password-reset": (api_client, "post", "auth/password-reset", {"email": user.email}),
        "password-reset-confirm": (
            api_client,
            "post",
            "auth/password-reset/confirm",
            {"uid": uid, "token": token, "new_password": STRONG},
        ),
        "admin-create": (
            admin_client,
            "post",
            "admin/users",
            {"email": "new@example.com", "password": STRONG, "name": "N", "role": "USER"},
        ),
        "admin-update": (admin_client, "patch", f"admin/users/{user.pk}", {"name": "N", "role": "USER"}),
    }


def _send(client, method, url, body: bytes, content_type: str):
    # Throttle counters would turn later cases into 429s and hide what they test.
    cache.clear()
    return getattr(client, method)(f"{API}/{url}", body, content_type=content_type)


def _assert_refused(response, status: int | None, case) -> None:
    assert 400 <= response.status_code < 500, (case, response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, (case, response.content[:300])
    assert set(response.json()) == {"error"}, case
    assert set(response.json()["error"]) == {"code", "message", "details"}, case


ENDPOINT_NAMES = [
    "register",
    "login",
    "refresh",
    "logout",
    "me",
    "change-password",
    "password-reset",
    "password-reset-confirm",
    "admin-create",
    "admin-update",
]


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_junk_in_any_field_is_a_4xx_envelope_and_changes_nothing(endpoints, name, django_capture_on_commit_callbacks):
    client, method, url, valid = endpoints[name]
    before = _state()
    with django_capture_on_commit_callbacks() as queued:
        for field in valid:
            for value in JUNK_VALUES:
                body = json.dumps({**valid, field: value}).encode()
                _assert_refused(_send(client, method, url, body, "application/json"), None, (field, repr(value)[:40]))
    assert _state() == before
    assert queued == []


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
def test_a_body_that_is_not_a_json_object_is_a_4xx_envelope_and_changes_nothing(
    endpoints, name, django_capture_on_commit_callbacks
):
    client, method, url, _ = endpoints[name]
    before = _state()
    with django_capture_on_commit_callbacks() as queued:
        for body, content_type, status in JUNK_BODIES:
            _assert_refused(_send(client, method, url, body, content_type), status, (body[:40], content_type))
    assert _state() == before
    assert queued == []


@pytest.mark.parametrize(
    "query",
    ["search=a%00b", "role=%00", "role=SUPERUSER", "page=%00", "page=0", "page=99999999999999999999"],
)
def test_junk_admin_list_filters_are_a_4xx_envelope(admin_client, query):
    response = admin_client.get(f"{API}/admin/users?{query}")
    _assert_refused(response, None, query)


def test_a_body_over_the_upload_limit_is_413_and_changes_nothing(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"email": "big@example.com", "password": STRONG, "name": "x" * 1000}).encode()
    response = api_client.post(f"{API}/auth/register", body, content_type="application/json")
    assert_envelope(response, 413, "request_too_large")
    assert not User.objects.filter(email="big@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_password_reset_answers_202_even_when_the_broker_is_down(api_client, user, monkeypatch, caplog):
    # Were the enqueue error to escape, only existing accounts would get a 500: an enumeration oracle.
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(Producer, "publish", broker_down)
    # Eager mode would run the task in this thread without publishing.
    celery_app.conf.task_always_eager = False
    try:
        known = api_client.post(f"{API}/auth/password-reset", {"email": user.email})
        unknown = api_client.post(f"{API}/auth/password-reset", {"email": "nobody@example.com"})
    finally:
        celery_app.conf.task_always_eager = True
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert EmailMessage.objects.count() == 0
    assert any("task not queued" in record.getMessage() for record in caplog.records)
