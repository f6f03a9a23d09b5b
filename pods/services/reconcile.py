"""The reconcile loop: make the cluster hold what an instance should be, then record what it is.

``reconcile(instance_id)`` is safe to run at any time and any number of times:
- one at a time per instance (a lease on the row; a second caller returns BUSY at once, and the
  status writes of a holder whose lease lapsed are refused);
- idempotent: it reads first and writes only what differs, so a converged instance costs reads
  only, a half-applied one (a crash mid-way) is completed, and an object deleted or edited out of
  band is put back;
- it never holds a database transaction across a call to the cluster.
Failures are sorted. Reads that fail, an API that cannot be reached or rejects our credentials,
and the platform's own bugs say nothing about the apps: the status is kept, the instance is
marked stale, and it is retried with backoff. A *write* the API keeps refusing (invalid, forbidden,
quota, a server error) ends FAILED after ``PAAS_RECONCILE_MAX_ATTEMPTS``. An app not ready within
``PAAS_PROVISION_TIMEOUT`` ends FAILED with the reason the cluster gives; time the platform could
not look (an outage) does not count against it.
"""

from __future__ import annotations

import enum
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from paas.crypto import SealError
from pods.cluster import Cluster, ClusterError, ClusterRefused, ClusterUnavailable, rfc3339
from pods.metrics import CLUSTER_ERRORS, RECONCILE_SECONDS
from pods.models import InstanceEvent, ServiceInstance
from templates.exceptions import TemplateError

from .changes import Change, changes_needed, restart_due
from .cluster import get_cluster
from .desired import desired_for
from .health import Health, assess
from .history import event_record, status_changed
from .lease import lease_claim, lease_release
from .observe import Observed, observe

logger = logging.getLogger(__name__)

Status = ServiceInstance.Status
DesiredState = ServiceInstance.DesiredState
Kind = InstanceEvent.Kind

# A namespace still being deleted after this long is stuck (a finalizer), not just slow.
NAMESPACE_STUCK_AFTER = timedelta(minutes=10)
# A pass that sees the instance changed under it runs again, at most this many times.
MAX_PASSES = 3
# What the owner sees when the cluster refuses a change; the details are for operators.
REFUSED_MESSAGE = "The platform could not apply this app's configuration to the cluster; operators are looking into it."


@dataclass(frozen=True)
class Result:
    """What one reconcile did: its outcome, the writes it made, and the status it recorded."""

    outcome: Outcome
    changes: tuple[Change, ...] = ()
    status: str = ""


class Outcome(enum.StrEnum):
    CONVERGED = "converged"  # the cluster holds what the instance should be, and it is settled
    CONVERGING = "converging"  # writes done or pods starting: looked at again shortly
    BUSY = "busy"  # another worker holds the instance
    UNREACHABLE = "unreachable"  # the cluster could not be read or written to: retried with backoff
    REFUSED = "refused"  # the cluster API refused a change: retried, FAILED after N times


class LeaseLost(Exception):
    """The lease lapsed during a pass (a very slow cluster): another worker may own the instance."""


def _poll_delay(waiting_since: datetime | None, now: datetime) -> timedelta:
    """How soon to look again at an instance that is waiting for pods to come or go: often at
    first, then less and less (a wait that lasts is a problem the sweep will also see)."""
    waited = (now - waiting_since) if waiting_since else timedelta(0)
    for limit, delay in ((timedelta(minutes=1), 3), (timedelta(minutes=10), 15), (timedelta(hours=1), 60)):
        if waited < limit:
            return timedelta(seconds=delay)
    return timedelta(minutes=5)


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempt - 1)))


def _load(instance_id) -> ServiceInstance:
    return ServiceInstance.objects.select_related("owner", "service", "plan__service").get(pk=instance_id)


def reconcile(instance_id: uuid.UUID | str, *, cluster: Cluster | None = None) -> Result:
    """Bring one instance's objects in line with what it should be, and record its status."""
    started = time.monotonic()
    result = _reconcile(instance_id, cluster)
    RECONCILE_SECONDS.labels(result.outcome.value).observe(time.monotonic() - started)
    if result.outcome in (Outcome.UNREACHABLE, Outcome.REFUSED):
        CLUSTER_ERRORS.labels(result.outcome.value).inc()
    return result


def _reconcile(instance_id, cluster: Cluster | None) -> Result:
    token = lease_claim(instance_id)
    if token is None:
        return Result(Outcome.BUSY)
    try:
        changes: list[Change] = []
        for _ in range(MAX_PASSES):
            instance = _load(instance_id)
            instance.lease_token = token
            outcome = _pass(instance, cluster, changes)
            # A request (stop, plan change...) that arrived during the pass is applied now.
            if ServiceInstance.objects.filter(pk=instance_id, generation=instance.generation).exists():
                break
        return Result(outcome, tuple(changes), instance.status)
    except LeaseLost:
        logger.warning("reconcile lease lapsed mid-pass", extra={"instance_id": str(instance_id)})
        return Result(Outcome.BUSY)
    finally:
        lease_release(instance_id, token)


def reconcile_preview(instance_id: uuid.UUID | str, *, cluster: Cluster | None = None) -> list[Change]:
    """The writes a reconcile would make now, without making them (reads only)."""
    instance = _load(instance_id)
    if instance.is_purged:
        return []
    observed = observe(cluster or get_cluster(), instance.namespace)
    return changes_needed(instance, desired_for(instance, observed=observed), observed)


# --- one pass ---------------------------------------------------------------------------------


def _warning_events(cluster: Cluster, namespace: str):
    def lookup(kind: str, name: str) -> tuple[str, str] | None:
        events = cluster.list("Event", namespace=namespace, fields=f"involvedObject.name={name}")
        warnings = [
            e for e in events if e.get("type") == "Warning" and (e.get("involvedObject") or {}).get("kind") == kind
        ]
        if not warnings:
            return None
        newest = max(warnings, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        return newest.get("reason") or "Warning", newest.get("message") or ""

    return lookup


def _read(cluster: Cluster, instance: ServiceInstance) -> Observed:
    """Read the namespace. A read that fails says nothing about the app: it is an outage."""
    try:
        return observe(cluster, instance.namespace)
    except ClusterRefused as exc:
        raise ClusterUnavailable(f"Reading the cluster failed: {exc.message}", status=exc.status) from exc


def _pass(instance: ServiceInstance, cluster: Cluster | None, made: list[Change]) -> Outcome:
    now = timezone.now()
    if instance.is_purged:
        return Outcome.CONVERGED
    try:
        cluster = cluster or get_cluster()
        observed = _read(cluster, instance)
        if observed.terminating:
            # The namespace is being deleted (a purge just before a new purchase, or someone by
            # hand): nothing can be created in it until it is gone. A wait, unless it is stuck there
            # (a finalizer nobody removes), which operators must see.
            message = f"Namespace {instance.namespace} is being deleted; it is recreated once gone."
            if observed.terminating_for(now) > NAMESPACE_STUCK_AFTER:
                raise ClusterRefused(message, reason="NamespaceTerminating")
            raise ClusterUnavailable(message)
        changes = changes_needed(instance, desired_for(instance, observed=observed), observed)
        refused_growth = _run(cluster, changes, made)
        restart = restart_due(instance, observed, changes)
        if restart is not None:
            cluster.restart(
                "Deployment", restart["metadata"]["name"], instance.namespace, at=rfc3339(instance.restart_requested_at)
            )
        try:
            health = assess(observed, instance.pk, events=_warning_events(cluster, instance.namespace))
        except ClusterRefused as exc:
            raise ClusterUnavailable(f"Reading the cluster failed: {exc.message}", status=exc.status) from exc
    except ClusterUnavailable as exc:
        return _unreachable(instance, exc.message, now)
    except ClusterRefused as exc:
        return _refused(instance, reason=exc.reason or "ClusterError", message=exc.message, now=now)
    except (TemplateError, ValidationError, SealError) as exc:
        # The instance cannot be rendered (a blueprint or plan change made its config invalid, or
        # its secrets were sealed under a key that is gone).
        return _refused(instance, reason="RenderFailed", message=str(exc), now=now)
    except (ClusterError, LeaseLost, SoftTimeLimitExceeded):
        raise  # the last: Celery's time limit must end the pass, not read as an outage
    except Exception as exc:
        # A bug of ours must not fail a customer's app: log it loudly and look again later.
        logger.exception("reconcile pass failed", extra={"instance_id": str(instance.pk)})
        return _unreachable(instance, f"Internal error: {type(exc).__name__}", now)
    touched = restart is not None or any(c.kind in ("Deployment", "StatefulSet") for c in changes)
    return _settle(instance, changes, refused_growth, health, touched=touched, now=now)


def _run(cluster: Cluster, changes: list[Change], made: list[Change]) -> list[tuple[Change, ClusterRefused]]:
    refused_growth = []
    for change in changes:
        try:
            change.run(cluster)
        except ClusterRefused as exc:
            if not change.best_effort:
                raise
            refused_growth.append((change, exc))
        else:
            made.append(change)
    return refused_growth


# --- recording --------------------------------------------------------------------------------


def _save(instance: ServiceInstance, fields: dict) -> None:
    """Write only the observed fields that changed, and only while we hold the lease (desired
    fields belong to the services). A lapsed lease aborts the pass."""
    changed = {name: value for name, value in fields.items() if getattr(instance, name) != value}
    if not changed:
        return
    changed["updated_at"] = timezone.now()
    if not ServiceInstance.objects.filter(pk=instance.pk, lease_token=instance.lease_token).update(**changed):
        raise LeaseLost()
    for name, value in changed.items():
        setattr(instance, name, value)


def _transition(instance: ServiceInstance, fields: dict, *, reason: str) -> None:
    old, was_ever_ready = instance.status, instance.first_ready_at is not None
    with transaction.atomic():
        _save(instance, fields)
        if instance.status != old:
            status_changed(instance, old=old, reason=reason, was_ever_ready=was_ever_ready)


def _outage_ended(instance: ServiceInstance, fields: dict, now: datetime) -> datetime | None:
    """The cluster answers again: the wait for readiness resumes where it stopped (the platform's
    outage is not the app's). Returns the wait's new start."""
    waiting_since = instance.waiting_since
    if instance.unreachable_since is not None:
        if waiting_since is not None:
            waiting_since += now - instance.unreachable_since
        fields |= {"unreachable_since": None, "waiting_since": waiting_since}
        event_record(instance, kind=Kind.CLUSTER, reason="ClusterReachable", message="The cluster API answers again.")
    return waiting_since


def _settle(
    instance: ServiceInstance,
    changes: list[Change],
    refused_growth: list,
    health: Health,
    *,
    touched: bool,
    now: datetime,
) -> Outcome:
    fields: dict = {"last_synced_at": now, "failures": 0, "last_error": "", "observed_generation": instance.generation}
    waiting_since = _outage_ended(instance, fields, now)
    for change in changes:
        if change.is_drift:
            event_record(
                instance,
                kind=Kind.CLUSTER,
                reason="DriftRepaired",
                message=f"{change.why} {change.kind} {change.name}: it was changed or deleted outside the platform.",
            )
    if refused_growth:
        refused = dict(instance.expansion_refused)
        for change, exc in refused_growth:
            refused[change.name] = change.manifest["spec"]["resources"]["requests"]["storage"]
            event_record(instance, kind=Kind.ERROR, reason="VolumeNotExpanded", message=f"{change.name}: {exc.message}")
        fields["expansion_refused"] = refused

    desired, old = instance.desired_state, instance.status
    reason = "Reconciled"
    settled = False
    if desired == DesiredState.RUNNING:
        if health.ready and not touched:
            status, message, reason, settled = Status.RUNNING, "", "Ready", True
            fields |= {"node": health.node, "first_ready_at": instance.first_ready_at or now}
        else:
            waiting_since = waiting_since or now
            # An app that had been running keeps RUNNING while it restarts; FAILED stays FAILED
            # until the app is ready again; anything else is still being provisioned.
            status = old if old in (Status.RUNNING, Status.FAILED) else Status.PROVISIONING
            message = health.summary if not touched else "Applying changes; waiting for the app to become ready."
            if status != Status.FAILED and now - waiting_since > timedelta(seconds=settings.PAAS_PROVISION_TIMEOUT):
                status = Status.FAILED
                reason = health.problem or "ProvisionTimeout"
                minutes = settings.PAAS_PROVISION_TIMEOUT // 60
                message = f"Not ready after {minutes} minutes. {health.summary}".strip()
            elif status == Status.PROVISIONING:
                reason = "Provisioning"
    elif desired == DesiredState.STOPPED:
        if health.idle and not touched:
            status, message, reason, settled = Status.STOPPED, "", "Stopped", True
            fields["node"] = ""
        else:
            status, message = old, "Stopping: waiting for the app's pods to exit."
            waiting_since = waiting_since or now
    elif health.gone and not any(c.verb == "delete" for c in changes):
        status, message, reason, settled = Status.DELETED, "", "Deleted", True
        fields["node"] = ""
    else:
        status, message, reason = Status.DELETING, "Removing the app's workloads.", "Deleting"
        waiting_since = waiting_since or now
    if settled:
        fields |= {"waiting_since": None, "next_reconcile_at": None}
    else:
        fields |= {"waiting_since": waiting_since, "next_reconcile_at": now + _poll_delay(waiting_since, now)}
    fields |= {"status": status, "status_message": message[:500]}
    _transition(instance, fields, reason=reason)
    return Outcome.CONVERGED if settled else Outcome.CONVERGING


def _unreachable(instance: ServiceInstance, message: str, now: datetime) -> Outcome:
    since = instance.unreachable_since or now
    if instance.unreachable_since is None:
        event_record(instance, kind=Kind.CLUSTER, reason="ClusterUnreachable", message=message)
        logger.warning("cluster unreachable", extra={"instance_id": str(instance.pk), "error": message})
    # Look again sooner while the outage is young; never fail the app for it.
    wait = min(timedelta(minutes=5), max(timedelta(seconds=5), (now - since) / 2))
    _save(instance, {"unreachable_since": since, "last_error": message[:500], "next_reconcile_at": now + wait})
    return Outcome.UNREACHABLE


def _refused(instance: ServiceInstance, *, reason: str, message: str, now: datetime) -> Outcome:
    failures = instance.failures + 1
    if failures == 1 or message[:500] != instance.last_error:
        event_record(instance, kind=Kind.ERROR, reason=reason, message=message)
    logger.warning("cluster refused a change", extra={"instance_id": str(instance.pk), "attempt": failures})
    fields = {
        "failures": failures,
        "last_error": message[:500],
        "last_synced_at": now,
        "next_reconcile_at": now + _backoff(failures),
    }
    _outage_ended(instance, fields, now)
    if failures >= settings.PAAS_RECONCILE_MAX_ATTEMPTS and instance.status != Status.FAILED:
        fields |= {"status": Status.FAILED, "status_message": REFUSED_MESSAGE}
    _transition(instance, fields, reason=reason)
    return Outcome.REFUSED
