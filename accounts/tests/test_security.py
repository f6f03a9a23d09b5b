"""Token rotation under concurrency, tokens of deleted accounts, and password reset requests that
look and cost the same whether or not the email is registered."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.test_api import assert_envelope, login
from paas.tests.threads import run_in_threads

API = "/api/v1"


def _live_refresh_tokens(user) -> list[str]:
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    return list(live.values_list("token", flat=True))


# --- refresh rotation -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_sent_twenty_times_at_once_yields_exactly_one_pair(user):
    refresh = login(APIClient(), user.email, DEFAULT_PASSWORD).json()["refresh"]

    def post(i: int):
        response = APIClient().post(f"{API}/auth/refresh", {"refresh": refresh}, format="json")
        return response.status_code, response.json()

    results = run_in_threads(20, post)

    assert not [r for r in results if not isinstance(r, tuple)], results
    granted = [body for code, body in results if code == 200]
    refused = [body for code, body in results if code == 401]
    assert len(granted) == 1, results
    assert len(refused) == 19, results
    assert {body["error"]["code"] for body in refused} == {"token_not_valid"}
    assert set(granted[0]) == {"access", "refresh"}
    # Exactly one new refresh token exists beside the used one, and only it is still usable.
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    assert _live_refresh_tokens(user) == [granted[0]["refresh"]]
    client = APIClient()
    assert client.get(f"{API}/auth/me", HTTP_AUTHORIZATION=f"Bearer {granted[0]['access']}").status_code == 200
    assert_envelope(client.post(f"{API}/auth/refresh", {"refresh": refresh}), 401, "token_not_valid")
    assert client.post(f"{API}/auth/refresh", {"refresh": granted[0]["refresh"]}).status_code == 200


# --- tokens of accounts that are gone ---------------------------------------------------------


@pytest.mark.django_db
def test_a_deleted_users_refresh_token_is_a_401_token_not_valid_and_changes_nothing(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    user.delete()
    before = (OutstandingToken.objects.count(), BlacklistedToken.objects.count())

    error = assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": refresh}), 401, "token_not_valid")

    assert "invalid" in error["message"].lower()
    assert (OutstandingToken.objects.count(), BlacklistedToken.objects.count()) == before
    # Logging out with it still works: the token is simply revoked.
    assert api_client.post(f"{API}/auth/logout", {"refresh": refresh}).status_code == 204


@pytest.mark.django_db
def test_a_deactivated_users_refresh_token_gets_the_same_answer_as_any_invalid_token(api_client, user):
    refresh = login(api_client, user.email, DEFAULT_PASSWORD).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_envelope(api_client.post(f"{API}/auth/refresh", {"refresh": refresh}), 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0


# --- password reset requests ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reset_request_does_the_same_work_for_a_registered_and_an_unknown_email(
    api_client, user, django_capture_on_commit_callbacks
):
    def request(email: str):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as queued:
            response = api_client.post(f"{API}/auth/password-reset", {"email": email})
        return response, [q["sql"] for q in queries], queued

    known, known_sql, known_queued = request(user.email)
    unknown, unknown_sql, unknown_queued = request("nobody@example.com")

    # The same answer, byte for byte, after the same database work and the same one queued task.
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.status_code == 202
    assert known_sql == unknown_sql
    assert len(known_queued) == len(unknown_queued) == 1
    # The worker is where the lookup happens: only the registered address gets a link.
    unknown_queued[0]()
    assert mail.outbox == []
    known_queued[0]()
    assert [message.to for message in mail.outbox] == [[user.email]]
