"""Worker nodes: the machines that run customers' apps, as their agents report them and as the
cluster's Node API describes them.

Only ``workers.services`` writes these tables. A node's own token is stored as a SHA-256 hash
(it is a long random secret, so a fast hash is enough); the token itself is shown once.
"""

import uuid

from django.db import models
from django.db.models import Q

from paas.models import TimeStampedModel


class WorkerNode(TimeStampedModel):
    """One node. ``capacity`` is the machine, ``allocatable`` what pods may use of it (both from
    the cluster or the agent); ``usage`` is the agent's last report. ``cordoned`` (ours) keeps new
    placements away; ``unschedulable`` is the cluster's own cordon."""

    class Status(models.TextChoices):
        READY = "READY", "Ready"
        NOT_READY = "NOT_READY", "Not ready"
        OFFLINE = "OFFLINE", "Offline"

    class Source(models.TextChoices):
        AGENT = "agent", "Agent"
        CLUSTER = "cluster", "Cluster Node API"
        OPERATOR = "operator", "Operator"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=253, unique=True)
    hostname = models.CharField(max_length=253, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.AGENT)
    cpu_millicores = models.PositiveIntegerField(default=0, help_text="Capacity.")
    memory_mb = models.PositiveIntegerField(default=0, help_text="Capacity.")
    pods = models.PositiveIntegerField(default=0, help_text="Capacity.")
    allocatable_cpu_millicores = models.PositiveIntegerField(default=0)
    allocatable_memory_mb = models.PositiveIntegerField(default=0)
    allocatable_pods = models.PositiveIntegerField(default=0)
    cpu_percent = models.FloatField(null=True, blank=True)
    memory_percent = models.FloatField(null=True, blank=True)
    pods_running = models.PositiveIntegerField(null=True, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    kubelet_version = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.NOT_READY, db_index=True)
    cordoned = models.BooleanField(default=False)
    unschedulable = models.BooleanField(default=False)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["READY", "NOT_READY", "OFFLINE"]), name="workers_node_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class NodeEvent(models.Model):
    """One thing that happened to a node (registered, went offline, came back, cordoned...).
    Never changed (a PostgreSQL trigger refuses updates); removed only with its node."""

    id = models.BigAutoField(primary_key=True)
    # The history goes with its node when an operator removes the node.
    node = models.ForeignKey(WorkerNode, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.CharField(max_length=64)
    message = models.CharField(max_length=500, blank=True)
    from_status = models.CharField(max_length=9, blank=True)
    to_status = models.CharField(max_length=9, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["node", "-created_at"], name="workers_event_node_created")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.message[:60]}"
