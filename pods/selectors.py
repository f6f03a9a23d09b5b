"""Reads of instances, scoped to what the caller may see; operators' reads say so in their names."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from paas.selectors import get_or_not_found
from workers.models import WorkerNode

from .models import InstanceEvent, ServiceInstance, stale_after


def instance_list_admin() -> QuerySet[ServiceInstance]:
    """Every customer's instances with owner, service, plan and the status of the node their app
    runs on (``node_status``), newest first: operators only."""
    node_status = WorkerNode.objects.filter(name=OuterRef("node")).values("status")[:1]
    return (
        ServiceInstance.objects.select_related("owner", "service", "plan")
        .annotate(node_status=Subquery(node_status))
        .order_by("-created_at", "id")
    )


def instance_get_admin(*, instance_id) -> ServiceInstance:
    return get_or_not_found(instance_list_admin(), message="No such instance.", pk=instance_id)


def instance_events(*, instance: ServiceInstance) -> QuerySet[InstanceEvent]:
    """An instance's history, newest first."""
    return InstanceEvent.objects.filter(instance=instance).order_by("-created_at", "-id")


def instance_is_stale(instance: ServiceInstance) -> bool:
    """The recorded state may be out of date: the cluster could not be read lately. The same test
    as ``ServiceInstance.objects.stale(now)``, on a row already loaded (no query per row in lists)."""
    if instance.unreachable_since is not None:
        return True
    if instance.last_synced_at is None or instance.status == ServiceInstance.Status.DELETED:
        return False
    return instance.last_synced_at < timezone.now() - stale_after()
