"""The periodic passes over every instance: drift, orphans, usage, retries, and purging.

``sweep`` reads the whole cluster with one list per kind (not one request per object), compares
every instance with what it should be, and queues a reconcile only for those that differ: a
cluster in line with the database costs reads only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from paas.queue import enqueue, enqueue_each_on_commit
from pods.cluster import Cluster, ClusterError
from pods.models import ClusterOrphan, InstanceEvent, ServiceInstance, UsageSample
from pods.quantity import QuantityError, parse_quantity

from .changes import changes_needed, restart_due
from .cluster import get_cluster
from .desired import MANAGED, desired_for
from .health import assess
from .history import event_record
from .lease import lease_claim, lease_release
from .observe import Observed, instance_label, observe, observe_everywhere

logger = logging.getLogger(__name__)

Status = ServiceInstance.Status
DesiredState = ServiceInstance.DesiredState

# The status an instance settles in for each desired state, and the health that confirms it.
_SETTLED = {
    DesiredState.RUNNING: (Status.RUNNING, lambda h: h.ready),
    DesiredState.STOPPED: (Status.STOPPED, lambda h: h.idle),
    DesiredState.DELETED: (Status.DELETED, lambda h: h.gone),
}


@dataclass
class SweepReport:
    instances: int = 0
    in_sync: int = 0
    queued: list = field(default_factory=list)
    orphans: list = field(default_factory=list)
    orphans_removed: int = 0
    usage_samples: int = 0


def _reconcile_task():
    from pods.tasks import reconcile_instance_task

    return reconcile_instance_task


def _live_instances():
    return ServiceInstance.objects.filter(purged_at__isnull=True).select_related("owner", "service", "plan__service")


def instance_in_sync(instance: ServiceInstance, observed: Observed, neighbours: list[ServiceInstance]) -> bool:
    """No write needed and the recorded status is the settled one: nothing for a reconcile to do.

    ``neighbours`` are the live instances sharing its namespace (they size the quota).
    """
    status, confirmed = _SETTLED[instance.desired_state]
    if instance.status != status or instance.observed_generation != instance.generation:
        return False
    if restart_due(instance, observed, []) is not None or not confirmed(assess(observed, instance.pk)):
        return False
    return not changes_needed(instance, desired_for(instance, neighbours), observed)


def sweep(*, cluster: Cluster | None = None, dry_run: bool = False) -> SweepReport:
    """Compare every instance with the cluster; queue a reconcile for each that differs.

    Also finds orphans (our objects whose instance is unknown or purged), samples usage, and
    stamps ``last_synced_at`` on the instances found in line. ``dry_run`` queues and changes nothing.
    """
    cluster = cluster or get_cluster()
    now = timezone.now()
    observed_by_ns = observe_everywhere(cluster)
    instances = list(_live_instances())
    neighbours: dict[str, list[ServiceInstance]] = defaultdict(list)
    for instance in instances:
        neighbours[instance.namespace].append(instance)
    report = SweepReport(instances=len(instances))
    in_sync = []
    for instance in instances:
        observed = observed_by_ns.get(instance.namespace) or Observed(instance.namespace, None)
        try:
            synced = instance_in_sync(instance, observed, neighbours[instance.namespace])
        except (ValueError, KeyError) as exc:  # a render failure: the reconcile records it
            logger.warning("instance cannot be compared", extra={"instance_id": str(instance.pk), "error": str(exc)})
            synced = False
        (in_sync.append(instance.pk) if synced else report.queued.append(instance.pk))
    report.in_sync = len(in_sync)
    report.orphans = find_orphans(observed_by_ns, {i.pk: i for i in instances})
    if dry_run:
        return report
    ServiceInstance.objects.filter(pk__in=in_sync).update(last_synced_at=now, unreachable_since=None)
    for instance_id in report.queued:
        enqueue(_reconcile_task(), str(instance_id))
    report.orphans_removed = record_orphans(cluster, report.orphans, now=now)
    report.usage_samples = sample_usage(cluster, instances, now=now)
    return report


# --- orphans ----------------------------------------------------------------------------------


def find_orphans(observed_by_ns: dict[str, Observed], live: dict) -> list[dict]:
    """Objects labelled as ours that no live instance accounts for (pods excepted: their
    workload is the orphan), and our namespaces that no live instance uses."""
    live_ids = {str(i) for i in live}
    used_namespaces = {i.namespace for i in live.values()}
    orphans = []
    for namespace, observed in observed_by_ns.items():
        ns = observed.namespace_object
        if ns is not None and namespace not in used_namespaces and not observed.terminating:
            orphans.append(ns)
            continue
        for (kind, _), obj in observed.objects.items():
            label = instance_label(obj)
            if kind != "Pod" and label and label not in live_ids:
                orphans.append(obj)
    return orphans


def record_orphans(cluster: Cluster, orphans: list[dict], *, now) -> int:
    """Report orphans (one row each, kept up to date) and, with PAAS_DELETE_ORPHANS, remove them."""
    removed = 0
    for obj in orphans:
        meta = obj["metadata"]
        row, created = ClusterOrphan.objects.get_or_create(
            kind=obj["kind"],
            namespace=meta.get("namespace", ""),
            name=meta["name"],
            defaults={"instance_label": instance_label(obj), "first_seen_at": now, "last_seen_at": now},
        )
        if created:
            logger.warning("orphan found", extra={"kind": row.kind, "namespace": row.namespace, "object": row.name})
        else:
            ClusterOrphan.objects.filter(pk=row.pk).update(last_seen_at=now)
        if settings.PAAS_DELETE_ORPHANS and row.removed_at is None:
            try:
                cluster.delete(row.kind, row.name, row.namespace or None)
            except ClusterError as exc:
                logger.warning("orphan not removed", extra={"object": row.name, "error": exc.message})
                continue
            ClusterOrphan.objects.filter(pk=row.pk).update(removed_at=now)
            removed += 1
    return removed


# --- usage ------------------------------------------------------------------------------------


def _usage_of(pod_metrics: dict) -> tuple[int, int]:
    cpu = memory = Decimal(0)
    for container in pod_metrics.get("containers") or []:
        usage = container.get("usage") or {}
        try:
            cpu += parse_quantity(usage.get("cpu", "0"))
            memory += parse_quantity(usage.get("memory", "0"))
        except QuantityError:
            continue
    return int(cpu * 1000), int(memory / (1024 * 1024))


def sample_usage(cluster: Cluster, instances: list[ServiceInstance], *, now) -> int:
    """One usage sample per running instance, from one cluster-wide metrics read."""
    running = {str(i.pk): i for i in instances if i.status == Status.RUNNING}
    if not running:
        return 0
    try:
        metrics = cluster.pod_metrics(labels=MANAGED)
    except ClusterError as exc:
        logger.info("no usage sample this time", extra={"error": exc.message})
        return 0
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pod in metrics:
        label = instance_label(pod)
        if label in running:
            cpu, memory = _usage_of(pod)
            totals[label][0] += cpu
            totals[label][1] += memory
    UsageSample.objects.bulk_create(
        [
            UsageSample(instance=running[label], sampled_at=now, cpu_millicores=cpu, memory_mb=memory)
            for label, (cpu, memory) in totals.items()
        ]
    )
    return len(totals)


# --- retries, purges --------------------------------------------------------------------------


def reconcile_due(*, limit: int = 200) -> int:
    """Queue a reconcile for every instance whose next look is due (provisioning, retries)."""
    now = timezone.now()
    ids = list(
        ServiceInstance.objects.filter(next_reconcile_at__lte=now, purged_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_reconcile_at")
        .values_list("pk", flat=True)[:limit]
    )
    enqueue_each_on_commit(_reconcile_task(), ids)
    return len(ids)


def purge_instance(instance: ServiceInstance, *, cluster: Cluster | None = None) -> bool:
    """Delete what a deleted instance kept (volumes, Secrets) once its retention window is over,
    and the namespace when no other instance uses it. False when it is not due (or busy)."""
    token = lease_claim(instance.pk)
    if token is None:
        return False
    try:
        instance.refresh_from_db()
        due = (
            instance.desired_state == DesiredState.DELETED
            and instance.purge_after
            and instance.purge_after <= timezone.now()
        )
        if not due or instance.is_purged:
            return False
        cluster = cluster or get_cluster()
        observed = observe(cluster, instance.namespace)
        for obj in observed.of_instance(instance.pk):
            if obj["kind"] != "Pod":
                cluster.delete(obj["kind"], obj["metadata"]["name"], instance.namespace)
        others = ServiceInstance.objects.filter(namespace=instance.namespace, purged_at__isnull=True).exclude(
            pk=instance.pk
        )
        if observed.namespace_object is not None and not others.exists():
            cluster.delete("Namespace", instance.namespace)
        ServiceInstance.objects.filter(pk=instance.pk).update(
            purged_at=timezone.now(), secrets_sealed="", next_reconcile_at=None, updated_at=timezone.now()
        )
        event_record(
            instance,
            kind=InstanceEvent.Kind.ACTION,
            reason="Purged",
            message="The retention window ended: volumes and secrets deleted.",
        )
        return True
    finally:
        lease_release(instance.pk, token)


def purge_due(*, cluster: Cluster | None = None) -> int:
    """Purge every deleted instance past its retention window, and drop old usage samples."""
    now = timezone.now()
    due = ServiceInstance.objects.filter(
        desired_state=DesiredState.DELETED, purge_after__lte=now, purged_at__isnull=True
    ).select_related("owner")
    purged = 0
    for instance in due:
        try:
            purged += purge_instance(instance, cluster=cluster)
        except ClusterError as exc:
            logger.warning("purge postponed", extra={"instance_id": str(instance.pk), "error": exc.message})
    UsageSample.objects.filter(sampled_at__lt=now - timedelta(days=settings.PAAS_USAGE_RETENTION_DAYS)).delete()
    return purged
