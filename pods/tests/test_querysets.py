"""The words every app uses for instances (``ServiceInstance.objects``), each pinned to its meaning."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pods.models import ServiceInstance, stale_after
from pods.selectors import instance_is_stale

from .factories import make_instance

pytestmark = pytest.mark.django_db

DesiredState, Status = ServiceInstance.DesiredState, ServiceInstance.Status


def _instance(owner, name: str, **state) -> ServiceInstance:
    instance = make_instance(owner, name=name)
    ServiceInstance.objects.filter(pk=instance.pk).update(**state)
    instance.refresh_from_db()
    return instance


@pytest.fixture
def lifecycle(user) -> dict[str, ServiceInstance]:
    """One instance in each place of its life, by name."""
    now = timezone.now()
    return {
        "running": _instance(user, "running", status=Status.RUNNING),
        "stopped": _instance(user, "stopped", desired_state=DesiredState.STOPPED, status=Status.STOPPED),
        "failed": _instance(user, "failed", status=Status.FAILED),
        "pending": _instance(user, "pending"),
        "retained": _instance(
            user, "retained", desired_state=DesiredState.DELETED, status=Status.DELETED, purge_after=now
        ),
        "purged": _instance(user, "purged", desired_state=DesiredState.DELETED, status=Status.DELETED, purged_at=now),
    }


def _names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_live_is_every_instance_not_purged_deleted_ones_kept_for_undo_included(lifecycle):
    assert _names(ServiceInstance.objects.live()) == {"running", "stopped", "failed", "pending", "retained"}


def test_holding_capacity_is_live_and_not_deleted_stopped_apps_included(lifecycle):
    assert _names(ServiceInstance.objects.holding_capacity()) == {"running", "stopped", "failed", "pending"}


def test_retained_is_deleted_but_not_purged(lifecycle):
    assert _names(ServiceInstance.objects.retained()) == {"retained"}


def test_live_splits_into_holding_capacity_and_retained(lifecycle):
    live = _names(ServiceInstance.objects.live())
    holding, retained = _names(ServiceInstance.objects.holding_capacity()), _names(ServiceInstance.objects.retained())
    assert holding | retained == live and not holding & retained


def test_stale_is_unreachable_or_not_read_lately_and_agrees_with_the_row_test(user):
    # given: instances around the staleness limit, reachable or not, deleted or not
    now = timezone.now()
    limit = stale_after()
    long_ago, lately = now - limit - timedelta(minutes=1), now - limit + timedelta(minutes=1)
    rows = [
        _instance(user, "never-read"),
        _instance(user, "read-lately", status=Status.RUNNING, last_synced_at=lately),
        _instance(user, "read-long-ago", status=Status.RUNNING, last_synced_at=long_ago),
        _instance(user, "unreachable", status=Status.RUNNING, last_synced_at=lately, unreachable_since=lately),
        _instance(user, "unreachable-never-read", unreachable_since=lately),
        _instance(user, "deleted-long-ago", status=Status.DELETED, desired_state="DELETED", last_synced_at=long_ago),
        _instance(
            user, "deleted-unreachable", status=Status.DELETED, desired_state="DELETED", unreachable_since=lately
        ),
    ]
    # when / then: the queryset and the one-row test (lists, serializers) say the same
    with time_machine.travel(now, tick=False):
        stale = _names(ServiceInstance.objects.stale(now))
        assert stale == {row.name for row in rows if instance_is_stale(row)}
    assert stale == {"read-long-ago", "unreachable", "unreachable-never-read", "deleted-unreachable"}


def test_the_consoles_stale_filter_is_the_same_stale(user, admin_user, client):
    # given: one instance the cluster was not read for lately (reachable), one read just now
    now = timezone.now()
    _instance(user, "read-long-ago", status=Status.RUNNING, last_synced_at=now - stale_after() - timedelta(minutes=1))
    _instance(user, "fresh", status=Status.RUNNING, last_synced_at=now)
    client.force_login(admin_user)
    # when
    response = client.get("/admin/pods/serviceinstance/?attention=stale")
    # then: the list filtered "stale" shows what the list's own "stale" column calls stale
    assert response.status_code == 200
    assert {i.name for i in response.context["cl"].result_list} == {"read-long-ago"}
