"""What the hot request path skips must not change what it answers: the caller's row read from the
cache still honours deactivation, demotion and password changes at once; a remembered access token
still expires; a quiet database connection is trusted without a round trip, a closed one is not."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, connections
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory
from conftest import client_for
from paas.api import authentication

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"


def test_the_caller_is_read_from_the_database_once_then_from_the_cache(user, user_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert user_client.get(ME).json()["email"] == user.email
    with django_assert_num_queries(0):
        assert user_client.get(ME).json()["email"] == user.email
    # The password hash never leaves the database.
    cached = cache.get(authentication._key(user.pk))
    assert cached and user.password not in cached


def test_a_deactivated_user_is_refused_on_their_next_request(admin_client, user, user_client):
    assert user_client.get(ME).status_code == 200  # cached now
    assert admin_client.delete(f"/api/v1/admin/users/{user.pk}").status_code == 204
    response = user_client.get(ME)
    assert response.status_code == 401 and response.json()["error"]["code"] == "user_inactive"


def test_a_demoted_administrator_loses_the_admin_api_at_once(admin_client):
    other = AdminFactory()
    other_client = client_for(other)
    assert other_client.get("/api/v1/admin/users").status_code == 200
    assert admin_client.patch(f"/api/v1/admin/users/{other.pk}", {"role": "USER"}).status_code == 200
    assert other_client.get("/api/v1/admin/users").status_code == 403
    assert other_client.get(ME).json()["role"] == "USER"


def test_a_committed_change_wins_over_a_request_that_read_the_row_just_before(
    admin_client, user, user_client, django_capture_on_commit_callbacks
):
    key = authentication._key(user.pk)
    assert user_client.get(ME).status_code == 200
    stale = cache.get(key)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.delete(f"/api/v1/admin/users/{user.pk}").status_code == 204
    # A request that read the row before the commit now tries to cache what it read: too late.
    cache.add(key, stale, authentication.CACHE_SECONDS)
    assert user_client.get(ME).status_code == 401


def test_a_deactivation_reaches_the_cache_while_this_process_skips_reading_it(
    admin_client, user, user_client, monkeypatch, django_capture_on_commit_callbacks
):
    assert user_client.get(ME).status_code == 200  # cached now
    # A cache error a moment ago: this process reads users from the database for a while...
    monkeypatch.setattr(authentication, "_cache_down_until", time.monotonic() + 60)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.delete(f"/api/v1/admin/users/{user.pk}").status_code == 204
    # ...but still pushed the change, which every other process reads at once.
    monkeypatch.setattr(authentication, "_cache_down_until", 0.0)
    assert user_client.get(ME).status_code == 401


def test_changing_the_password_with_a_cached_row_checks_the_real_hash(api_client, user, user_client):
    assert user_client.get(ME).status_code == 200
    wrong = user_client.post("/api/v1/auth/change-password", {"current_password": "nope", "new_password": "x"})
    assert wrong.status_code == 400 and "current_password" in wrong.json()["error"]["details"]
    new = "Another-Long-Passphrase-93"
    done = user_client.post("/api/v1/auth/change-password", {"current_password": DEFAULT_PASSWORD, "new_password": new})
    assert done.status_code == 204
    login = api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 401
    assert api_client.post("/api/v1/auth/login", {"email": user.email, "password": new}).status_code == 200


def test_a_profile_change_shows_in_the_next_answer(user, user_client):
    assert user_client.get(ME).json()["name"] == user.name
    assert user_client.patch(ME, {"name": "Renamed"}).status_code == 200
    assert user_client.get(ME).json()["name"] == "Renamed"


def test_without_the_cache_requests_read_the_database(settings, user, user_client, monkeypatch):
    # The process stays off the cache for a while after this test's failures: not the next test's.
    monkeypatch.setattr(authentication, "_cache_down_until", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert user_client.get(ME).json()["email"] == user.email
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_client.get(ME).status_code == 401


def test_a_remembered_access_token_still_expires(user, user_client, settings):
    assert user_client.get(ME).status_code == 200
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(time.time() + lifetime.total_seconds() + 1, tick=False):
        response = user_client.get(ME)
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_not_valid"
    with time_machine.travel(time.time() + (lifetime - timedelta(seconds=30)).total_seconds(), tick=False):
        assert user_client.get(ME).status_code == 200


def test_a_tampered_token_is_refused_even_beside_a_remembered_one(user, user_client):
    assert user_client.get(ME).status_code == 200
    token = user_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    response = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_not_valid"


def test_a_quiet_connection_is_usable_and_a_terminated_one_is_not():
    spare = connections.create_connection("default")
    try:
        spare.ensure_connection()
        assert spare.is_usable()
        with spare.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while spare.is_usable() and time.monotonic() < deadline:
            time.sleep(0.05)  # the server's goodbye reaches the socket
        assert not spare.is_usable()
    finally:
        spare.close()


def test_a_heartbeat_with_a_nodes_id_but_another_secret_is_refused_and_changes_nothing(api_client):
    from workers.models import NodeEvent, WorkerNode
    from workers.services import node_create

    capacity = {"cpu_millicores": 1000, "memory_mb": 1024, "pods": 10}
    node, token = node_create(name="worker-1", capacity=capacity, labels={})
    forged = token[: -len("secret")] + "secret"
    report = {"status": "READY", "usage": {"cpu_percent": 99.0, "memory_percent": 99.0, "pods_running": 1}}
    response = api_client.post("/api/v1/workers/heartbeat", report, format="json", HTTP_X_WORKER_TOKEN=forged)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    node.refresh_from_db()
    assert node.cpu_percent is None and node.last_heartbeat_at is None
    assert not NodeEvent.objects.filter(reason="StatusReported").exists()
    ok = api_client.post("/api/v1/workers/heartbeat", report, format="json", HTTP_X_WORKER_TOKEN=token)
    assert ok.status_code == 200
    node.refresh_from_db()
    assert (node.status, node.cpu_percent) == (WorkerNode.Status.READY, 99.0)
    event = NodeEvent.objects.get(reason="StatusReported")
    assert (event.from_status, event.to_status) == (WorkerNode.Status.NOT_READY, WorkerNode.Status.READY)


def _drf_only(serializer_class):
    """The same serializer with DRF's own field building and per-row reading."""
    return type(
        f"Plain{serializer_class.__name__}",
        (serializer_class,),
        {
            "get_fields": serializers.ModelSerializer.get_fields,
            "to_representation": serializers.Serializer.to_representation,
            "_readable_fields": property(serializers.Serializer._readable_fields.fget),
        },
    )


def test_output_serializers_answer_exactly_what_drf_would(user, cluster):
    from billing.api.serializers import AdminTransactionSerializer, TransactionSerializer
    from billing.models import Transaction
    from billing.services import wallet_charge
    from billing.tests.factories import completed_topup
    from catalog.api.serializers import AdminServiceSerializer, ServiceSerializer
    from catalog.selectors import service_list_admin, service_list_public
    from pods.api.serializers import AdminInstanceSerializer
    from pods.selectors import instance_list_admin
    from subscriptions.api.serializers import SubscriptionSerializer
    from subscriptions.selectors import subscription_list
    from subscriptions.tests.factories import buy

    completed_topup(user=user, amount="300000.00")
    wallet_charge(user=user, amount=Decimal("1234.50"), description="a charge")
    buy(user)
    sampled = buy(user, service="ghost").instance
    type(sampled).objects.filter(pk=sampled.pk).update(
        usage_cpu_millicores=7, usage_memory_mb=9, usage_sampled_at=timezone.now()
    )
    cases = [
        (TransactionSerializer, Transaction.objects.filter(user=user)),
        (AdminTransactionSerializer, Transaction.objects.select_related("user")),
        (SubscriptionSerializer, subscription_list(user=user)),
        (AdminInstanceSerializer, instance_list_admin()),
        (ServiceSerializer, service_list_public()),
        (AdminServiceSerializer, service_list_admin()),
    ]
    for serializer_class, queryset in cases:
        rows = list(queryset)
        assert rows, serializer_class
        fast = JSONRenderer().render(serializer_class(rows, many=True).data)
        drf = JSONRenderer().render(_drf_only(serializer_class)(rows, many=True).data)
        assert fast == drf, serializer_class
