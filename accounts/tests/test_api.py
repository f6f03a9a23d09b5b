import re

import pytest
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from conftest import client_for

pytestmark = pytest.mark.django_db

API = "/api/v1"
STRONG = "Blue-Giraffe-Orbit-42"


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def login(api_client, email, password):
    return api_client.post(f"{API}/auth/login", {"email": email, "password": password})


# --- register ---------------------------------------------------------------------------------


def test_register_creates_a_user_and_returns_tokens(api_client):
    response = api_client.post(f"{API}/auth/register", {"email": "Ana@Example.com", "password": STRONG, "name": "Ana"})
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "ana@example.com"
    assert body["user"]["role"] == "USER"
    assert set(body["user"]) == {"id", "email", "name", "role", "created_at"}
    user = User.objects.get(email="ana@example.com")
    assert user.check_password(STRONG) and user.password != STRONG
    me = api_client.get(f"{API}/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["id"] == str(user.id)


def test_register_refuses_fields_it_does_not_know_such_as_a_role(api_client):
    response = api_client.post(
        f"{API}/auth/register", {"email": "x@example.com", "password": STRONG, "name": "X", "role": "ADMINISTRATOR"}
    )
    assert assert_envelope(response, 400, "validation_error")["details"] == {"role": ["Unknown field."]}
    assert not User.objects.filter(email="x@example.com").exists()


def test_register_refuses_a_duplicate_email_whatever_its_case(api_client, user):
    response = api_client.post(f"{API}/auth/register", {"email": user.email.upper(), "password": STRONG, "name": "Dup"})
    error = assert_envelope(response, 400, "validation_error")
    assert "email" in error["details"]
    assert User.objects.filter(email__iexact=user.email).count() == 1


@pytest.mark.parametrize("password", ["short1A!", "password1234", "12345678901234", "weakuser@example.com"])
def test_register_refuses_a_weak_password(api_client, password):
    response = api_client.post(
        f"{API}/auth/register", {"email": "weakuser@example.com", "password": password, "name": "Weak"}
    )
    error = assert_envelope(response, 400, "validation_error")
    assert error["details"]["password"]
    assert not User.objects.filter(email="weakuser@example.com").exists()


def test_register_reports_every_missing_field(api_client):
    error = assert_envelope(api_client.post(f"{API}/auth/register", {}), 400, "validation_error")
    assert set(error["details"]) == {"email", "password", "name"}


def test_malformed_json_is_a_400_bad_request(api_client):
    response = api_client.generic("POST", f"{API}/auth/register", '{"email": ', content_type="application/json")
    assert_envelope(response, 400, "bad_request")


def test_json_nested_too_deeply_is_a_400_not_a_500(api_client):
    body = '{"a":' * 5000 + "1" + "}" * 5000
    response = api_client.generic("POST", f"{API}/auth/register", body, content_type="application/json")
    assert_envelope(response, 400, "bad_request")


def test_a_form_body_is_415(api_client):
    response = api_client.post(f"{API}/auth/register", "email=a", content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415, "unsupported_media_type")


# --- login, refresh, logout -------------------------------------------------------------------


def test_login_returns_the_user_and_a_token_pair(api_client, user):
    response = login(api_client, user.email.upper(), DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(user.id)
    assert response.json()["access"] and response.json()["refresh"]
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "inactive user"])
def test_login_failures_all_look_the_same(api_client, user, case):
    email, password = user.email, DEFAULT_PASSWORD
    if case == "wrong password":
        password = "not-the-password"
    elif case == "unknown email":
        email = "nobody@example.com"
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)
    error = assert_envelope(login(api_client, email, password), 401, "invalid_credentials")
    assert error["message"] == "Email or password is incorrect."


def test_refresh_rotates_and_a_used_refresh_token_is_refused(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    first = api_client.post(f"{API}/auth/refresh", {"refresh": refresh})
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != refresh
    assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": refresh}), 401, "token_not_valid")
    # The rotated token still works.
    assert api_client.post(f"{API}/auth/refresh", {"refresh": first.json()["refresh"]}).status_code == 200


def test_refresh_refuses_garbage_and_access_tokens(api_client, user):
    assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": "garbage"}), 401, "token_not_valid")
    access = str(RefreshToken.for_user(user).access_token)
    assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": access}), 401, "token_not_valid")


def test_refresh_refuses_a_deactivated_user(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api_client.post(f"{API}/auth/refresh", {"refresh": refresh}).status_code == 401


def test_logout_revokes_the_refresh_token(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    assert api_client.post(f"{API}/auth/logout", {"refresh": refresh}).status_code == 204
    assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": refresh}), 401, "token_not_valid")
    assert_envelope(api_client.post(f"{API}/auth/logout", {"refresh": refresh}), 401, "token_not_valid")


def test_logout_needs_a_refresh_token(api_client):
    error = assert_envelope(api_client.post(f"{API}/auth/logout", {}), 400, "validation_error")
    assert "refresh" in error["details"]


# --- me and passwords -------------------------------------------------------------------------


def test_me_needs_authentication(api_client):
    assert_envelope(api_client.get(f"{API}/auth/me"), 401, "not_authenticated")
    assert_envelope(api_client.get(f"{API}/auth/me", HTTP_AUTHORIZATION="Bearer not.a.jwt"), 401, "token_not_valid")


def test_me_shows_and_updates_the_profile(user_client, user):
    assert user_client.get(f"{API}/auth/me").json() == {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "role": "USER",
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }
    response = user_client.patch(f"{API}/auth/me", {"name": "  New Name "})
    assert response.status_code == 200 and response.json()["name"] == "New Name"
    user.refresh_from_db()
    assert user.name == "New Name"


def test_me_refuses_a_blank_name_and_changes_nothing(user_client, user):
    before = user.name
    error = assert_envelope(user_client.patch(f"{API}/auth/me", {"name": ""}), 400, "validation_error")
    assert "name" in error["details"]
    user.refresh_from_db()
    assert user.name == before


def test_an_access_token_stops_working_when_the_user_is_deactivated(user_client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_client.get(f"{API}/auth/me").status_code == 401


def test_change_password_checks_the_current_one(user_client, user):
    error = assert_envelope(
        user_client.post(f"{API}/auth/change-password", {"current_password": "wrong", "new_password": STRONG}),
        400,
        "validation_error",
    )
    assert "current_password" in error["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_password_applies_the_policy(user_client, user):
    response = user_client.post(
        f"{API}/auth/change-password", {"current_password": DEFAULT_PASSWORD, "new_password": "123"}
    )
    assert "new_password" in assert_envelope(response, 400, "validation_error")["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_password_signs_out_every_session(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    response = client_for(user).post(
        f"{API}/auth/change-password", {"current_password": DEFAULT_PASSWORD, "new_password": STRONG}
    )
    assert response.status_code == 204
    assert api_client.post(f"{API}/auth/refresh", {"refresh": refresh}).status_code == 401
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 401
    assert login(api_client, user.email, STRONG).status_code == 200


def test_change_password_also_revokes_refresh_tokens_obtained_by_rotation(api_client, user):
    first = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    rotated = api_client.post(f"{API}/auth/refresh", {"refresh": first}).json()["refresh"]
    response = client_for(user).post(
        f"{API}/auth/change-password", {"current_password": DEFAULT_PASSWORD, "new_password": STRONG}
    )
    assert response.status_code == 204
    assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": rotated}), 401, "token_not_valid")
    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 0


@pytest.fixture
def request_reset(api_client, django_capture_on_commit_callbacks):
    """POST a reset request and run what it queued on commit, as a real request's end would."""

    def post(email):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(f"{API}/auth/password-reset", {"email": email})

    return post


def _reset_link_parts() -> tuple[str, str]:
    assert len(mail.outbox) == 1
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1), match.group(2)


def test_password_reset_answers_202_whether_or_not_the_account_exists(api_client, user, request_reset):
    unknown = request_reset("nobody@example.com")
    assert unknown.status_code == 202
    assert mail.outbox == []
    known = request_reset(user.email)
    assert known.status_code == 202
    assert known.json() == unknown.json()
    assert mail.outbox[0].to == [user.email]


def test_password_reset_sends_nothing_to_an_inactive_account(api_client, user, request_reset):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert request_reset(user.email).status_code == 202
    assert mail.outbox == []


def test_password_reset_token_works_once(api_client, user, request_reset):
    request_reset(user.email)
    uid, token = _reset_link_parts()
    confirm = {"uid": uid, "token": token, "new_password": STRONG}
    assert api_client.post(f"{API}/auth/password-reset/confirm", confirm).status_code == 204
    assert login(api_client, user.email, STRONG).status_code == 200
    again = {**confirm, "new_password": "Another-Strong-Pass-77"}
    error = assert_envelope(api_client.post(f"{API}/auth/password-reset/confirm", again), 400, "validation_error")
    assert "token" in error["details"]
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_password_reset_confirm_refuses_bad_uid_token_and_weak_password(api_client, user, request_reset):
    request_reset(user.email)
    uid, token = _reset_link_parts()
    url = f"{API}/auth/password-reset/confirm"
    for body in (
        {"uid": "bm90LWEtdXVpZA", "token": token, "new_password": STRONG},
        {"uid": "!!!", "token": token, "new_password": STRONG},
        {"uid": uid, "token": "abc-123", "new_password": STRONG},
    ):
        assert "token" in assert_envelope(api_client.post(url, body), 400, "validation_error")["details"]
    weak = api_client.post(url, {"uid": uid, "token": token, "new_password": "123"})
    assert "new_password" in assert_envelope(weak, 400, "validation_error")["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    # The token survived the refused attempts.
    assert api_client.post(url, {"uid": uid, "token": token, "new_password": STRONG}).status_code == 204


# --- throttling -------------------------------------------------------------------------------


def test_login_is_throttled_per_email_with_retry_after(api_client, user):
    for _ in range(5):
        assert login(api_client, user.email, "wrong").status_code == 401
    response = login(api_client, user.email, DEFAULT_PASSWORD)
    error = assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert error["details"]["retry_after"] == int(response["Retry-After"])
    # Another account from the same address is not locked out by it.
    other = UserFactory()
    assert login(api_client, other.email, DEFAULT_PASSWORD).status_code == 200


def test_login_is_throttled_per_address(api_client):
    for i in range(10):
        assert login(api_client, f"guess{i}@example.com", "wrong").status_code == 401
    assert_envelope(login(api_client, "guess-last@example.com", "wrong"), 429, "throttled")


def test_refreshing_tokens_does_not_use_up_the_logins_of_an_address(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    for _ in range(10):
        response = api_client.post(f"{API}/auth/refresh", {"refresh": refresh})
        assert response.status_code == 200
        refresh = response.json()["refresh"]
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 200


def test_refresh_is_throttled_per_address(api_client):
    for _ in range(30):
        assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": "garbage"}), 401, "token_not_valid")
    response = api_client.post(f"{API}/auth/refresh", {"refresh": "garbage"})
    assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_register_is_throttled(api_client):
    for i in range(10):
        body = {"email": f"r{i}@example.com", "password": STRONG, "name": "R"}
        assert api_client.post(f"{API}/auth/register", body).status_code == 201
    body = {"email": "r-last@example.com", "password": STRONG, "name": "R"}
    assert_envelope(api_client.post(f"{API}/auth/register", body), 429, "throttled")
    assert not User.objects.filter(email="r-last@example.com").exists()


def test_password_reset_is_throttled_per_email(api_client, user, request_reset):
    for _ in range(3):
        assert request_reset(user.email).status_code == 202
    assert_envelope(request_reset(user.email), 429, "throttled")
    assert len(mail.outbox) == 3


# --- the envelope on other statuses -----------------------------------------------------------


def test_unknown_api_path_is_a_404_envelope(user_client):
    assert_envelope(user_client.get(f"{API}/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_405_envelope(user_client):
    assert_envelope(user_client.delete(f"{API}/auth/me"), 405, "method_not_allowed")
