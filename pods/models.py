"""Service instances (an app running in a customer's namespace), their history and their usage.

Only ``pods.services`` writes these tables. The customer or an operator changes what an instance
*should* be (``desired_state``, its plan); the reconcile loop makes the cluster match and records
what it *is* (``status``), like a Kubernetes controller. ``pods`` knows nothing of subscriptions:
whoever sells the instance (the subscriptions app) links to it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from paas.models import TimeStampedModel


def stale_after() -> timedelta:
    """How old a last sync may be before an instance's shown state is called stale."""
    return timedelta(seconds=3 * settings.PAAS_SWEEP_INTERVAL)


class ServiceInstanceQuerySet(models.QuerySet):
    """The words every app uses for instances, each defined once (services, selectors, the
    console, metrics and tasks alike)."""

    def live(self) -> ServiceInstanceQuerySet:
        """Not purged: the instance is still the platform's business. It runs, is stopped, is
        failing, or was deleted and keeps its volumes and Secrets until ``purge_after`` (an operator
        can still restore it). The sweep, the reconcile loop, the namespace's objects and the
        console count these."""
        return self.filter(purged_at__isnull=True)

    def holding_capacity(self) -> ServiceInstanceQuerySet:
        """Live and not deleted: running or stopped (a stopped app may start again at any time), so
        its plan's room is held in the cluster. Capacity admission counts these, and a resized plan
        reaches these."""
        return self.live().exclude(desired_state=ServiceInstance.DesiredState.DELETED)

    def retained(self) -> ServiceInstanceQuerySet:
        """Deleted but not purged yet: no workloads, volumes and Secrets kept until ``purge_after``."""
        return self.live().filter(desired_state=ServiceInstance.DesiredState.DELETED)

    def stale(self, now: datetime) -> ServiceInstanceQuerySet:
        """Whose recorded state may be out of date at ``now``: the cluster cannot be reached, or was
        last read longer than ``stale_after()`` ago (a deleted instance is never read again, so it
        is not stale for that). ``pods.selectors.instance_is_stale`` is the same test on one row."""
        not_read_lately = Q(last_synced_at__lt=now - stale_after()) & ~Q(status=ServiceInstance.Status.DELETED)
        return self.filter(Q(unreachable_since__isnull=False) | not_read_lately)


class ServiceInstance(TimeStampedModel):
    """One app (n8n, Ghost, ...) of one customer, on one plan, in the customer's namespace.

    ``generation`` grows with every change of what the instance should be (state, plan, config);
    ``observed_generation`` is the generation the cluster was last brought to. The instance is
    converged when both agree and ``status`` is the one ``desired_state`` aims at.
    Generated secrets (database passwords, encryption keys) are kept sealed in
    ``secrets_sealed``, never in clear; the cluster's Secrets are rendered from them.
    """

    class DesiredState(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        STOPPED = "STOPPED", "Stopped"
        DELETED = "DELETED", "Deleted"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        PROVISIONING = "PROVISIONING", "Provisioning"
        RUNNING = "RUNNING", "Running"
        STOPPED = "STOPPED", "Stopped"
        FAILED = "FAILED", "Failed"
        DELETING = "DELETING", "Deleting"
        DELETED = "DELETED", "Deleted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instances")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="instances")
    plan = models.ForeignKey("catalog.Plan", on_delete=models.PROTECT, related_name="instances")
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True, help_text="The customer's settings, validated.")
    secrets_sealed = models.TextField(editable=False)
    namespace = models.CharField(max_length=63, db_index=True)
    host = models.CharField(max_length=253, unique=True, help_text="The public host name of the app.")

    desired_state = models.CharField(max_length=8, choices=DesiredState.choices, default=DesiredState.RUNNING)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_message = models.CharField(max_length=500, blank=True)
    node = models.CharField(max_length=253, blank=True, db_index=True, help_text="Node running the app's pod.")
    generation = models.PositiveIntegerField(default=1)
    observed_generation = models.PositiveIntegerField(default=0)

    # When the cluster was last read successfully, and since when it cannot be reached: a running
    # app is then shown as stale, never as failed, since the outage says nothing about it.
    last_synced_at = models.DateTimeField(null=True, blank=True, db_index=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    first_ready_at = models.DateTimeField(null=True, blank=True)
    # The latest usage sample, kept on the row too: lists show it without a subquery per row.
    usage_cpu_millicores = models.PositiveIntegerField(null=True, blank=True)
    usage_memory_mb = models.PositiveIntegerField(null=True, blank=True)
    usage_sampled_at = models.DateTimeField(null=True, blank=True)
    # Start of the current wait for the app to become ready (provisioning, start, restart, or a
    # running app whose pods stopped being ready): past PAAS_PROVISION_TIMEOUT it is FAILED.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # A restart asked for at this time; the app's pods are replaced once per request.
    restart_requested_at = models.DateTimeField(null=True, blank=True)

    # Volumes the cluster refused to grow, and to what size (claim name -> size): not asked again
    # until the size wanted changes (a storage class may not allow expansion).
    expansion_refused = models.JSONField(default=dict, blank=True)
    # Retries: cluster errors in a row, and when the reconcile loop should look again.
    failures = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_reconcile_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # One reconcile at a time per instance: a worker holds this lease while it works.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)

    # Deleting keeps volumes and Secrets until purge_after, so an operator can undo it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(null=True, blank=True, db_index=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = ServiceInstanceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="pods_instance_owner_created"),
            models.Index(fields=["status", "desired_state"], name="pods_instance_status_desired"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(desired_state__in=["RUNNING", "STOPPED", "DELETED"]), name="pods_instance_desired_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["PENDING", "PROVISIONING", "RUNNING", "STOPPED", "FAILED", "DELETING", "DELETED"]
                ),
                name="pods_instance_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(observed_generation__lte=models.F("generation")), name="pods_instance_generation_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def url(self) -> str:
        return settings.PAAS_APPS_URL_TEMPLATE.format(host=self.host)

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None


class InstanceEvent(models.Model):
    """One thing that happened to an instance: a status change, an action, a cluster error.

    Append-only (a PostgreSQL trigger refuses updates and deletes): the history an operator and
    the owner read to learn why an app is in its state.
    """

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        ACTION = "action", "Action"
        CLUSTER = "cluster", "Cluster"
        ERROR = "error", "Error"

    id = models.BigAutoField(primary_key=True)
    instance = models.ForeignKey(ServiceInstance, on_delete=models.PROTECT, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.CharField(max_length=64, help_text="A short CamelCase code, as Kubernetes events use.")
    message = models.CharField(max_length=1000, blank=True)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for it; empty for the platform itself.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["instance", "-created_at"], name="pods_event_instance_created")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.message[:60]}"


class UsageSample(models.Model):
    """CPU and memory an instance's pods used at one moment (from the metrics API).

    Sampled by the periodic sweep and kept for ``PAAS_USAGE_RETENTION_DAYS``.
    """

    id = models.BigAutoField(primary_key=True)
    instance = models.ForeignKey(ServiceInstance, on_delete=models.CASCADE, related_name="usage_samples")
    sampled_at = models.DateTimeField(db_index=True)
    cpu_millicores = models.PositiveIntegerField()
    memory_mb = models.PositiveIntegerField()

    class Meta:
        ordering = ["-sampled_at", "-id"]
        indexes = [models.Index(fields=["instance", "-sampled_at"], name="pods_usage_instance_sampled")]

    def __str__(self) -> str:
        return f"{self.cpu_millicores}m / {self.memory_mb} MiB at {self.sampled_at:%Y-%m-%d %H:%M}"


class ClusterOrphan(models.Model):
    """An object labelled as the platform's whose instance is deleted or unknown.

    The sweep reports each one here; with ``PAAS_DELETE_ORPHANS`` it also removes it
    (``removed_at``). Purged instances' leftovers and objects of a wiped database show up here.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=64)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    instance_label = models.CharField(max_length=64, blank=True, help_text="The instance id the object claims.")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "namespace", "name"], name="pods_orphan_object_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"
