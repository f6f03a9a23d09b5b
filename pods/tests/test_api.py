"""The operators' instance API (/admin/pods) against the emulator."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from pods import services
from pods.models import InstanceEvent, ServiceInstance

from .factories import make_instance

pytestmark = pytest.mark.django_db

PODS = "/api/v1/admin/pods"
Status = ServiceInstance.Status


def _running(cluster, owner, **kwargs):
    instance = make_instance(owner, **kwargs)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    instance.refresh_from_db()
    return instance


def test_a_customer_is_refused_every_route(user_client, user, cluster):
    instance = make_instance(user)
    for method, path in [
        ("get", PODS),
        ("get", f"{PODS}/{instance.pk}"),
        ("post", f"{PODS}/{instance.pk}/restart"),
        ("post", f"{PODS}/{instance.pk}/stop"),
        ("post", f"{PODS}/{instance.pk}/start"),
        ("post", f"{PODS}/{instance.pk}/restore"),
        ("delete", f"{PODS}/{instance.pk}"),
        ("get", f"{PODS}/{instance.pk}/logs"),
        ("post", f"{PODS}/reconcile"),
    ]:
        response = getattr(user_client, method)(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"
    instance.refresh_from_db()
    assert instance.desired_state == "RUNNING" and instance.generation == 1


def test_the_list_shows_every_customers_instances_with_filters(admin_client, cluster):
    alice, bob = UserFactory(), UserFactory()
    a = _running(cluster, alice)
    b = make_instance(bob, service="ghost")

    body = admin_client.get(PODS).json()
    assert body["count"] == 2
    by_id = {row["id"]: row for row in body["results"]}
    assert by_id[str(a.pk)]["status"] == "RUNNING" and by_id[str(a.pk)]["owner"]["email"] == alice.email
    assert by_id[str(b.pk)]["status"] == "PENDING" and by_id[str(b.pk)]["service"] == "ghost"

    assert [r["id"] for r in admin_client.get(f"{PODS}?status=RUNNING").json()["results"]] == [str(a.pk)]
    assert [r["id"] for r in admin_client.get(f"{PODS}?user={bob.pk}").json()["results"]] == [str(b.pk)]
    assert [r["id"] for r in admin_client.get(f"{PODS}?namespace={a.namespace}").json()["results"]] == [str(a.pk)]
    assert [r["id"] for r in admin_client.get(f"{PODS}?node={a.node}").json()["results"]] == [str(a.pk)]


@pytest.mark.parametrize("query", ["status=SLEEPING", "user=not-a-uuid", "page_size=0", "page=x"])
def test_bad_filters_are_a_400_or_an_empty_page_never_a_500(admin_client, query):
    response = admin_client.get(f"{PODS}?{query}")
    assert response.status_code in (400, 404)
    assert "error" in response.json()


def test_the_list_costs_the_same_queries_whatever_its_size(admin_client, cluster):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(f"{PODS}?page_size=100").status_code == 200
        return len(ctx.captured_queries)

    make_instance(UserFactory())
    count()  # the first request also reads the caller's row into the cache
    small = count()
    for _ in range(6):
        make_instance(UserFactory(), service="wordpress")
    assert count() == small


def test_detail_shows_what_the_cluster_says_now(admin_client, user, cluster):
    instance = _running(cluster, user)
    body = admin_client.get(f"{PODS}/{instance.pk}").json()
    assert body["live"]["reachable"] is True and body["live"]["ready"] is True
    assert [p["ready"] for p in body["live"]["pods"]] == [True]
    assert body["live"]["pods"][0]["node"] == instance.node
    assert body["recent_events"][0]["to_status"] == "RUNNING"
    assert body["stale"] is False
    assert "secrets_sealed" not in body and "lease_token" not in body


@pytest.mark.parametrize("ref", [uuid.uuid4(), "not-a-uuid", "1"])
def test_unknown_or_malformed_ids_are_404(admin_client, ref):
    response = admin_client.get(f"{PODS}/{ref}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_controls_answer_202_and_the_loop_does_the_work(admin_client, admin_user, user, cluster):
    instance = _running(cluster, user)

    response = admin_client.post(f"{PODS}/{instance.pk}/stop")

    assert response.status_code == 202 and response.json()["desired_state"] == "STOPPED"
    event = InstanceEvent.objects.filter(instance=instance, kind="action").latest("id")
    assert (event.reason, event.actor) == ("StopRequested", admin_user)
    # Asked twice, still one request: the second changes nothing.
    assert admin_client.post(f"{PODS}/{instance.pk}/stop").status_code == 202
    instance.refresh_from_db()
    assert instance.generation == 2
    assert admin_client.post(f"{PODS}/{instance.pk}/restart").json()["error"]["code"] == "invalid_state"

    assert admin_client.post(f"{PODS}/{instance.pk}/start").status_code == 202
    assert admin_client.delete(f"{PODS}/{instance.pk}").status_code == 202
    assert admin_client.post(f"{PODS}/{instance.pk}/start").status_code == 409
    assert admin_client.post(f"{PODS}/{instance.pk}/restore").status_code == 202
    instance.refresh_from_db()
    assert instance.desired_state == "RUNNING" and instance.purge_after is None


def test_restore_of_an_instance_that_was_not_deleted_is_409(admin_client, user, cluster):
    instance = make_instance(user)
    response = admin_client.post(f"{PODS}/{instance.pk}/restore")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_state"


def test_logs_tail_the_app_container(admin_client, user, cluster):
    instance = _running(cluster, user)
    body = admin_client.get(f"{PODS}/{instance.pk}/logs?tail=5").json()
    assert body["tail"] == 5 and 0 < len(body["lines"]) <= 5
    assert all("synthetic" in line for line in body["lines"])
    assert admin_client.get(f"{PODS}/{instance.pk}/logs?tail=0").status_code == 400
    assert admin_client.get(f"{PODS}/{instance.pk}/logs?tail=lots").status_code == 400


def test_logs_of_a_stopped_app_are_409_and_of_an_unreachable_cluster_502(admin_client, user, cluster, settings):
    instance = _running(cluster, user)
    cluster.add_fault(verb="list", resource="pods", status=503, times=3)
    response = admin_client.get(f"{PODS}/{instance.pk}/logs")
    assert response.status_code == 502 and response.json()["error"]["code"] == "cluster_error"
    services.instance_stop(instance=instance)
    assert admin_client.get(f"{PODS}/{instance.pk}/logs").status_code == 409


def test_reconcile_now_queues_one_or_all(admin_client, user, cluster, django_capture_on_commit_callbacks):
    instance = make_instance(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{PODS}/reconcile", {"instance": str(instance.pk)}, format="json")
    assert response.status_code == 202
    instance.refresh_from_db()
    assert instance.status == Status.PROVISIONING  # the eager worker ran it
    assert admin_client.post(f"{PODS}/reconcile", {}, format="json").status_code == 202
    assert admin_client.post(f"{PODS}/reconcile", {"instanse": "x"}, format="json").status_code == 400
    assert admin_client.post(f"{PODS}/reconcile", {"instance": str(uuid.uuid4())}, format="json").status_code == 404


def test_an_operator_is_named_in_the_history_only_to_operators(admin_client, admin_user, user, cluster):
    instance = make_instance(user)
    admin_client.post(f"{PODS}/{instance.pk}/stop")
    events = admin_client.get(f"{PODS}/{instance.pk}").json()["recent_events"]
    assert events[0]["by"] == "operator" and events[0]["actor"] == admin_user.email
