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

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from paas.bulk import update_rows
from paas.queue import enqueue_each_on_commit
from pods.cluster import Cluster, ClusterError
from pods.models import ClusterOrphan, InstanceEvent, ServiceInstance, UsageSample
from pods.quantity import QuantityError, parse_quantity
from templates.renderer import LABEL_USER_ID

from .changes import changes_needed, restart_due
from .cluster import get_cluster
from .desired import Desired, instance_manifests_for_comparison, namespace_manifests
from .health import assess
from .history import event_record
from .lease import lease_claim, lease_release
from .observe import MANAGED, Observed, instance_label, observe, observe_everywhere

logger = logging.getLogger(__name__)

Status = ServiceInstance.Status
DesiredState = ServiceInstance.DesiredState

SETTLED_STATUS = {
    DesiredState.RUNNING: Status.RUNNING,
    DesiredState.STOPPED: Status.STOPPED,
    DesiredState.DELETED: Status.DELETED,
}
# An orphan is removed (with PAAS_DELETE_ORPHANS) only once it has been one this long: a restored
# database backup or a purchase racing the sweep must not cost anyone their data.
ORPHAN_GRACE = timedelta(hours=1)


@dataclass
class SweepReport:
    instances: int = 0
    in_sync: int = 0
    queued: list = field(default_factory=list)
    orphans: list = field(default_factory=list)
    orphans_removed: int = 0
    usage_samples: int = 0


def _reconcile_task():
    from pods.tasks import instance_reconcile_task

    return instance_reconcile_task


def _live_instances():
    return ServiceInstance.objects.live().select_related("owner", "service", "plan__service")


def instance_in_sync(instance: ServiceInstance, observed: Observed, namespace_objects: list[dict]) -> bool:
    """No write needed and the recorded status is the settled one: nothing for a reconcile to do.

    ``namespace_objects`` are the namespace-level manifests its namespace should hold.
    """
    if (
        instance.status != SETTLED_STATUS[instance.desired_state]
        or instance.observed_generation != instance.generation
        or instance.unreachable_since is not None
        or restart_due(instance, observed, []) is not None
        or not assess(observed, instance.pk).settles(instance.desired_state)
    ):
        return False
    desired = Desired(namespace_objects=namespace_objects, instance_objects=instance_manifests_for_comparison(instance))
    return not changes_needed(instance, desired, observed)


def sweep(*, cluster: Cluster | None = None, dry_run: bool = False) -> SweepReport:
    """Compare every instance with the cluster; queue a reconcile for each that differs.

    Also finds orphans (our objects whose instance is unknown or purged), samples usage, and
    stamps ``last_synced_at`` on the instances found in line. ``dry_run`` queues and changes nothing.
    An instance that cannot even be compared (a bug, a config its template no longer accepts) is
    queued: its reconcile records why, and the sweep goes on with the others.
    """
    cluster = cluster or get_cluster()
    now = timezone.now()
    observed_by_ns = observe_everywhere(cluster)
    instances = list(_live_instances())
    by_namespace: dict[str, list[ServiceInstance]] = defaultdict(list)
    for instance in instances:
        by_namespace[instance.namespace].append(instance)
    report = SweepReport(instances=len(instances))
    in_sync = []
    for namespace, members in by_namespace.items():
        observed = observed_by_ns.get(namespace) or Observed(namespace, None)
        try:
            # Rendered once per namespace: every instance in it shares these.
            namespace_objects = namespace_manifests(members[0], members, observed)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            logger.exception("namespace cannot be rendered", extra={"namespace": namespace})
            report.queued += [i.pk for i in members]
            continue
        for instance in members:
            try:
                synced = instance_in_sync(instance, observed, namespace_objects)
            except SoftTimeLimitExceeded:
                raise  # Celery's time limit ends the sweep; the next one starts over
            except Exception:
                logger.exception("instance cannot be compared", extra={"instance_id": str(instance.pk)})
                synced = False
            (in_sync if synced else report.queued).append(instance.pk)
    report.in_sync = len(in_sync)
    report.orphans = find_orphans(observed_by_ns, {i.pk: i for i in instances})
    if dry_run:
        return report
    ServiceInstance.objects.filter(pk__in=in_sync).update(last_synced_at=now)
    queue_reconciles(report.queued, now=now)
    report.orphans_removed = record_orphans(cluster, report.orphans, now=now)
    report.usage_samples = sample_usage(cluster, instances, now=now)
    return report


def queue_reconciles(ids: list, *, now) -> None:
    """Queue a reconcile for each instance, and push its next look a minute away so the frequent
    ``reconcile_due`` does not queue it again while the task waits for a worker."""
    if not ids:
        return
    ServiceInstance.objects.filter(pk__in=ids).update(next_reconcile_at=now + QUEUED_FOR)
    enqueue_each_on_commit(_reconcile_task(), ids)


# How long a queued reconcile may wait for a worker before ``reconcile_due`` queues it again.
QUEUED_FOR = timedelta(minutes=1)


# --- orphans ----------------------------------------------------------------------------------


def _orphan_namespace(namespace: str, namespace_object: dict) -> bool:
    labels = (namespace_object.get("metadata") or {}).get("labels") or {}
    return namespace.startswith("paas-u-") and bool(labels.get(LABEL_USER_ID))


def find_orphans(observed_by_ns: dict[str, Observed], live: dict) -> list[dict]:
    """Objects labelled as ours that no live instance accounts for (pods excepted: their
    workload is the orphan), and our customer namespaces that no live instance uses."""
    live_ids = {str(i) for i in live}
    used_namespaces = {i.namespace for i in live.values()}
    orphans = []
    for namespace, observed in observed_by_ns.items():
        ns = observed.namespace_object
        if ns is not None and namespace not in used_namespaces and not observed.terminating:
            if _orphan_namespace(namespace, ns):
                orphans.append(ns)
            continue
        for (kind, _), obj in observed.objects.items():
            label = instance_label(obj)
            if kind != "Pod" and label and label not in live_ids:
                orphans.append(obj)
    return orphans


def _still_orphaned(row: ClusterOrphan) -> bool:
    """Checked again right before a removal: the database may have moved since the sweep read it."""
    live = ServiceInstance.objects.live()
    if row.kind == "Namespace":
        return not live.filter(namespace=row.name).exists()
    return not (row.instance_label and live.filter(pk=row.instance_label).exists())


def record_orphans(cluster: Cluster, orphans: list[dict], *, now) -> int:
    """Report orphans (one row each, kept up to date) and, with PAAS_DELETE_ORPHANS, remove those
    that have been orphans for ``ORPHAN_GRACE``. Rows of objects no longer orphaned are dropped."""
    removed = 0
    seen = []
    for obj in orphans:
        meta = obj["metadata"]
        row, created = ClusterOrphan.objects.get_or_create(
            kind=obj["kind"],
            namespace=meta.get("namespace", ""),
            name=meta["name"],
            defaults={"instance_label": instance_label(obj), "first_seen_at": now, "last_seen_at": now},
        )
        seen.append(row.pk)
        if created:
            logger.warning("orphan found", extra={"kind": row.kind, "namespace": row.namespace, "object": row.name})
        else:
            # Removed earlier and back again: it is an orphan anew.
            ClusterOrphan.objects.filter(pk=row.pk).update(last_seen_at=now, removed_at=None)
            row.removed_at = None
        if not settings.PAAS_DELETE_ORPHANS or row.first_seen_at > now - ORPHAN_GRACE or not _still_orphaned(row):
            continue
        try:
            cluster.delete(row.kind, row.name, row.namespace or None)
        except ClusterError as exc:
            logger.warning("orphan not removed", extra={"object": row.name, "error": exc.message})
            continue
        ClusterOrphan.objects.filter(pk=row.pk).update(removed_at=now)
        removed += 1
    ClusterOrphan.objects.filter(removed_at__isnull=True).exclude(pk__in=seen).delete()
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
    update_rows(
        ServiceInstance,
        "id",
        {
            "id": [running[label].pk for label in totals],
            "usage_cpu_millicores": [cpu for cpu, _ in totals.values()],
            "usage_memory_mb": [memory for _, memory in totals.values()],
        },
        usage_sampled_at=now,
    )
    return len(totals)


# --- retries, purges --------------------------------------------------------------------------


def reconcile_due(*, limit: int = 500) -> int:
    """Queue a reconcile for every instance whose next look is due (provisioning, retries)."""
    now = timezone.now()
    ids = list(
        ServiceInstance.objects.live()
        .filter(next_reconcile_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_reconcile_at")
        .values_list("pk", flat=True)[:limit]
    )
    queue_reconciles(ids, now=now)
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
        with transaction.atomic():
            # The owner's row lock: a purchase creating an instance in this namespace waits for this
            # decision, so a namespace is never deleted under a new app (instance_create takes it too).
            type(instance.owner).objects.select_for_update(no_key=True).filter(pk=instance.owner_id).first()
            others = ServiceInstance.objects.live().filter(namespace=instance.namespace)
            if observed.namespace_object is not None and not others.exclude(pk=instance.pk).exists():
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
    due = ServiceInstance.objects.retained().filter(purge_after__lte=now).select_related("owner")
    purged = 0
    for instance in due:
        try:
            purged += purge_instance(instance, cluster=cluster)
        except ClusterError as exc:
            logger.warning("purge postponed", extra={"instance_id": str(instance.pk), "error": exc.message})
    UsageSample.objects.filter(sampled_at__lt=now - timedelta(days=settings.PAAS_USAGE_RETENTION_DAYS)).delete()
    return purged
