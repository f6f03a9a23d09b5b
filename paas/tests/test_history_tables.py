"""Histories are kept as written: PostgreSQL refuses to change their rows (and to delete them,
but a node's events, which go with their node), whatever code tries it."""

import pytest
from django.db import DatabaseError, transaction

from pods.models import InstanceEvent
from pods.services.history import event_record as instance_event
from pods.tests.factories import make_instance
from subscriptions.models import SubscriptionEvent
from subscriptions.tests.factories import buy
from workers.models import NodeEvent
from workers.services.registry import event_record as node_event
from workers.services.registry import node_create

pytestmark = pytest.mark.django_db


def _instance_events(user):
    instance_event(make_instance(user), kind=InstanceEvent.Kind.ACTION, reason="Tested")
    return InstanceEvent.objects.all()


def _subscription_events(user):
    buy(user)
    return SubscriptionEvent.objects.all()


def _node_events(user):
    node, _ = node_create(name="worker-1", capacity={"cpu_millicores": 1000, "memory_mb": 1024, "pods": 10}, labels={})
    node_event(node, reason="Tested")
    return NodeEvent.objects.all()


@pytest.mark.parametrize(
    ("rows", "deletable"),
    [(_instance_events, False), (_subscription_events, False), (_node_events, True)],
    ids=["instance events", "subscription events", "node events"],
)
def test_history_rows_cannot_be_rewritten(rows, deletable, user, cluster):
    events = rows(user)
    assert events.exists()
    with pytest.raises(DatabaseError, match="history and cannot be changed"), transaction.atomic():
        events.update(message="it never happened")
    if deletable:
        return
    with pytest.raises(DatabaseError, match="cannot be changed or deleted"), transaction.atomic():
        events.delete()
