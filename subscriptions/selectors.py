"""Reads of subscriptions, scoped to their owner; operators' reads say so in their names."""

from __future__ import annotations

from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat

from paas.selectors import get_or_not_found
from pods.models import InstanceEvent

from .models import Subscription, SubscriptionEvent


def _with_instance(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """Service, plan and instance (with its latest usage), in one query whatever the page."""
    return queryset.select_related("service", "plan", "instance")


def subscription_list(*, user) -> QuerySet[Subscription]:
    return _with_instance(Subscription.objects.filter(user=user)).order_by("-created_at", "id")


def subscription_get_for_user(*, user, subscription_id) -> Subscription:
    return get_or_not_found(subscription_list(user=user), message="No such subscription.", pk=subscription_id)


def subscription_history(*, subscription: Subscription) -> QuerySet:
    """The subscription's events and its instance's status changes and actions, newest first, as
    one list of dicts (``id`` is ``s-<n>`` or ``i-<n>``; ``source`` says which)."""
    columns = ("created_at", "reason", "message", "from_status", "to_status", "actor_id")
    own = SubscriptionEvent.objects.filter(subscription=subscription).annotate(
        event_id=Concat(Value("s-"), Cast(F("id"), CharField())), source=Value("subscription")
    )
    # The owner reads what happened to the app and who asked; the cluster's own words (errors,
    # outages) can carry its internals and stay with operators (pods' admin history).
    shown = (InstanceEvent.Kind.STATUS, InstanceEvent.Kind.ACTION)
    instance = InstanceEvent.objects.filter(instance_id=subscription.instance_id, kind__in=shown).annotate(
        event_id=Concat(Value("i-"), Cast(F("id"), CharField())), source=Value("instance")
    )
    fields = ("event_id", "source", *columns)
    # Each side without its model's default ordering: SQLite refuses ORDER BY inside a UNION.
    return (
        own.order_by()
        .values(*fields)
        .union(instance.order_by().values(*fields), all=True)
        .order_by("-created_at", "-event_id")
    )
