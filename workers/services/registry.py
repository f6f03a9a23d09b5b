"""Nodes registering and reporting in, and what operators change on them."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, JSONField, Q, Value, When
from django.utils import timezone

from workers.exceptions import InvalidWorkerToken
from workers.models import NodeEvent, WorkerNode

from .tokens import join_token_valid, token_hash, token_new, token_node_id

logger = logging.getLogger(__name__)

Status = WorkerNode.Status


def event_record(node: WorkerNode, *, reason: str, message: str = "", old: str = "", new: str = "") -> None:
    NodeEvent.objects.create(node_id=node.pk, reason=reason, message=message[:500], from_status=old, to_status=new)


def _capacity(node: WorkerNode, capacity: dict) -> None:
    node.cpu_millicores = capacity["cpu_millicores"]
    node.memory_mb = capacity["memory_mb"]
    node.pods = capacity["pods"]
    # The agent cannot know what the kubelet reserves; the Node API's allocatable wins when synced.
    if node.source != WorkerNode.Source.CLUSTER or not node.allocatable_cpu_millicores:
        node.allocatable_cpu_millicores = node.cpu_millicores
        node.allocatable_memory_mb = node.memory_mb
        node.allocatable_pods = node.pods


@transaction.atomic
def node_register(
    *,
    join_token: str | None,
    name: str,
    hostname: str,
    ip_address: str | None,
    capacity: dict,
    labels: dict,
    kubelet_version: str,
) -> tuple[WorkerNode, str, bool]:
    """An agent registers its node with the cluster's join token: the node is created, or found
    by name (an agent restarted, or told its token no longer works). Either way it gets a new
    token of its own, returned here only. Returns ``(node, token, created)``."""
    if not join_token_valid(join_token, settings.WORKER_JOIN_TOKEN):
        raise InvalidWorkerToken("The join token is not valid.")
    node = WorkerNode.objects.select_for_update().filter(name=name).first()
    created = node is None
    if created:
        try:
            with transaction.atomic():
                node = WorkerNode.objects.create(name=name, source=WorkerNode.Source.AGENT)
        except IntegrityError:  # registered at the same moment by a twin request
            node = WorkerNode.objects.select_for_update().get(name=name)
            created = False
    old = node.status
    token, node.token_hash = token_new(node.pk)
    node.hostname, node.ip_address, node.labels, node.kubelet_version = hostname, ip_address, labels, kubelet_version
    _capacity(node, capacity)
    node.status = Status.READY
    node.last_heartbeat_at = timezone.now()
    node.save()
    event_record(node, reason="Registered" if created else "Reregistered", old=old, new=node.status)
    logger.info("worker node registered", extra={"node": node.name, "new_node": created})
    return node, token, created


def node_heartbeat(
    *,
    token: str | None,
    status: str,
    cpu_percent: float,
    memory_percent: float,
    pods_running: int,
    conditions: list | None = None,
) -> int:
    """Record a node's report. Returns the interval the agent should report at; a wrong token is
    ``InvalidWorkerToken`` (401), whatever is wrong with it.

    The common report (same status as the last one) is one UPDATE that also checks the token: the
    row is found by the id the token claims and matched on the token's SHA-256. Equality on a hash
    leaks nothing a timing attack can use, since no one can choose what the hash of a guess starts
    with. A report that changes the status (a node coming back, or turning unready) or fails that
    match is re-read under the row's lock, to tell a wrong token from a new status and record it.

    A node the cluster's Node API reports is ready or not as the cluster says (``nodes_sync``): its
    agent's report proves it alive (back from OFFLINE) and brings its usage, but never flips the
    cluster's READY or NOT_READY, nor replaces the cluster's conditions.
    """
    node_id = token_node_id(token or "")
    if node_id is None:
        raise InvalidWorkerToken()
    usage = {
        "cpu_percent": cpu_percent,
        "memory_percent": memory_percent,
        "pods_running": pods_running,
        "last_heartbeat_at": timezone.now(),
    }
    report = {**usage, "status": status} | ({} if conditions is None else {"conditions": conditions})
    mine = WorkerNode.objects.filter(pk=node_id, token_hash=token_hash(token))
    # The common report, one UPDATE: the same status again, or a cluster node's usage.
    cluster = Q(source=WorkerNode.Source.CLUSTER)
    kept = {"status": Case(When(cluster, then=F("status")), default=Value(status))}
    if conditions is not None:
        kept["conditions"] = Case(
            When(cluster, then=F("conditions")), default=Value(conditions, output_field=JSONField())
        )
    if mine.filter(Q(status=status) | (cluster & ~Q(status=Status.OFFLINE))).update(**usage, **kept):
        return settings.WORKER_HEARTBEAT_INTERVAL
    with transaction.atomic():
        row = mine.select_for_update().values_list("status", "source").first()
        if row is None:
            raise InvalidWorkerToken()
        old, source = row
        if source == WorkerNode.Source.CLUSTER and old != Status.OFFLINE:
            mine.update(**usage)
            return settings.WORKER_HEARTBEAT_INTERVAL
        mine.update(**report)
        if old != status:
            event_record(WorkerNode(pk=node_id), reason="StatusReported", old=old, new=status)
    return settings.WORKER_HEARTBEAT_INTERVAL


@transaction.atomic
def node_create(
    *, name: str, hostname: str = "", ip_address=None, capacity: dict, labels: dict
) -> tuple[WorkerNode, str]:
    """An operator adds a node by hand (its agent will use the token shown now)."""
    node = WorkerNode(id=uuid.uuid4(), name=name, hostname=hostname, ip_address=ip_address, labels=labels)
    node.source = WorkerNode.Source.OPERATOR
    _capacity(node, capacity)
    token, node.token_hash = token_new(node.pk)
    try:
        with transaction.atomic():
            node.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"name": ["A node with this name exists."]}) from None
    event_record(node, reason="Created", new=node.status)
    return node, token


@transaction.atomic
def node_rotate_token(*, node: WorkerNode) -> str:
    """A new token for the node; the old one stops working at once (its agent re-registers)."""
    node = WorkerNode.objects.select_for_update().get(pk=node.pk)
    token, node.token_hash = token_new(node.pk)
    node.save(update_fields=["token_hash", "updated_at"])
    event_record(node, reason="TokenRotated")
    return token


@transaction.atomic
def node_set_cordoned(*, node: WorkerNode, cordoned: bool) -> WorkerNode:
    """Cordon (no new placements on it) or uncordon. Apps already there keep running."""
    node = WorkerNode.objects.select_for_update().get(pk=node.pk)
    if node.cordoned != cordoned:
        node.cordoned = cordoned
        node.save(update_fields=["cordoned", "updated_at"])
        event_record(node, reason="Cordoned" if cordoned else "Uncordoned")
    return node


@transaction.atomic
def node_update(*, node: WorkerNode, data: dict) -> WorkerNode:
    """Operators' edits: ``labels``, ``hostname``, ``cordoned``."""
    if "cordoned" in data:
        node = node_set_cordoned(node=node, cordoned=data["cordoned"])
    fields = [f for f in ("labels", "hostname") if f in data]
    for field in fields:
        setattr(node, field, data[field])
    if fields:
        node.save(update_fields=[*fields, "updated_at"])
    return node


def node_delete(*, node: WorkerNode) -> None:
    """Forget a node (an operator decommissioned it). Its agent, if still running, gets 401."""
    node.delete()
