"""The reconcile loop: make the cluster hold what an instance should be, then record what it is.

``reconcile(instance_id)`` is safe to run at any time and any number of times:
- one at a time per instance (a lease on the row; a second caller returns BUSY at once);
- idempotent: it reads first and writes only what differs, so a converged instance costs reads
  only, a half-applied one (a crash mid-way) is completed, and an object deleted or edited out of
  band is put back;
- it never holds a database transaction across a call to the cluster.
Failures are sorted: an API that cannot be reached says nothing about the apps (status kept,
marked stale, retried with backoff); a change the API keeps refusing ends FAILED after
``PAAS_RECONCILE_MAX_ATTEMPTS``; an app not ready within ``PAAS_PROVISION_TIMEOUT`` ends FAILED
with the reason the cluster gives (image pull, crash loop, quota, scheduling).
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pods.cluster import Cluster, ClusterRefused, ClusterUnavailable, rfc3339
from pods.models import InstanceEvent, ServiceInstance
from templates.exceptions import TemplateError

from .changes import Change, changes_needed, restart_due
from .cluster import get_cluster
from .desired import desired_for
from .health import Health, assess
from .history import event_record, status_changed
from .lease import lease_claim, lease_release
from .observe import observe

logger = logging.getLogger(__name__)

Status = ServiceInstance.Status
DesiredState = ServiceInstance.DesiredState
Kind = InstanceEvent.Kind

# A pass that sees the instance changed under it runs again, at most this many times.
MAX_PASSES = 3


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
    UNREACHABLE = "unreachable"  # the cluster API did not answer: retried with backoff
    REFUSED = "refused"  # the cluster API refused a change: retried, FAILED after N times


def _poll_delay(waiting_since: datetime | None, now: datetime) -> timedelta:
    # Pods usually start within a minute: look often at first, then less.
    waited = (now - waiting_since) if waiting_since else timedelta(0)
    return timedelta(seconds=3 if waited < timedelta(minutes=1) else 15)


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(300, 5 * 2 ** max(0, attempt - 1)))


def _load(instance_id) -> ServiceInstance:
    return ServiceInstance.objects.select_related("owner", "service", "plan__service").get(pk=instance_id)


def reconcile(instance_id: uuid.UUID | str, *, cluster: Cluster | None = None) -> Result:
    """Bring one instance's objects in line with what it should be, and record its status."""
    token = lease_claim(instance_id)
    if token is None:
        return Result(Outcome.BUSY)
    try:
        changes: list[Change] = []
        for _ in range(MAX_PASSES):
            instance = _load(instance_id)
            outcome = _pass(instance, cluster, changes)
            # A request (stop, plan change...) that arrived during the pass is applied now.
            if ServiceInstance.objects.filter(pk=instance_id, generation=instance.generation).exists():
                break
        return Result(outcome, tuple(changes), instance.status)
    finally:
        lease_release(instance_id, token)


def reconcile_preview(instance_id: uuid.UUID | str, *, cluster: Cluster | None = None) -> list[Change]:
    """The writes a reconcile would make now, without making them (reads only)."""
    instance = _load(instance_id)
    if instance.is_purged:
        return []
    observed = observe(cluster or get_cluster(), instance.namespace)
    return changes_needed(instance, desired_for(instance), observed)


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


def _pass(instance: ServiceInstance, cluster: Cluster | None, made: list[Change]) -> Outcome:
    now = timezone.now()
    if instance.is_purged:
        return Outcome.CONVERGED
    try:
        cluster = cluster or get_cluster()
        observed = observe(cluster, instance.namespace)
        if observed.terminating:
            # Someone deleted the namespace: nothing can be created in it until it is gone.
            raise ClusterUnavailable(f"Namespace {instance.namespace} is being deleted; it is recreated once gone.")
        changes = changes_needed(instance, desired_for(instance), observed)
        failed_best_effort = _run(cluster, changes, made)
        restart = restart_due(instance, observed, changes)
        if restart is not None:
            cluster.restart(
                "Deployment", restart["metadata"]["name"], instance.namespace, at=rfc3339(instance.restart_requested_at)
            )
        health = assess(observed, instance.pk, events=_warning_events(cluster, instance.namespace))
    except ClusterUnavailable as exc:
        return _unreachable(instance, exc, now)
    except ClusterRefused as exc:
        return _refused(instance, reason=exc.reason or "ClusterError", message=exc.message, now=now)
    except (TemplateError, ValidationError) as exc:
        # The instance cannot be rendered (a blueprint or plan change made its config invalid).
        return _refused(instance, reason="RenderFailed", message=str(exc), now=now)
    touched = restart is not None or any(c.kind in ("Deployment", "StatefulSet") for c in changes)
    return _settle(instance, changes, failed_best_effort, health, touched=touched, now=now)


def _run(cluster: Cluster, changes: list[Change], made: list[Change]) -> list[tuple[Change, ClusterRefused]]:
    failed = []
    for change in changes:
        try:
            change.run(cluster)
        except ClusterRefused as exc:
            if not change.best_effort:
                raise
            failed.append((change, exc))
        else:
            made.append(change)
    return failed


# --- recording --------------------------------------------------------------------------------


def _save(instance: ServiceInstance, fields: dict) -> None:
    """Write only the observed fields that changed; desired fields belong to the services."""
    changed = {name: value for name, value in fields.items() if getattr(instance, name) != value}
    if not changed:
        return
    changed["updated_at"] = timezone.now()
    ServiceInstance.objects.filter(pk=instance.pk).update(**changed)
    for name, value in changed.items():
        setattr(instance, name, value)


def _transition(instance: ServiceInstance, fields: dict, *, reason: str) -> None:
    old, was_ever_ready = instance.status, instance.first_ready_at is not None
    with transaction.atomic():
        _save(instance, fields)
        if instance.status != old:
            status_changed(instance, old=old, reason=reason, was_ever_ready=was_ever_ready)


def _settle(
    instance: ServiceInstance,
    changes: list[Change],
    failed_best_effort: list,
    health: Health,
    *,
    touched: bool,
    now: datetime,
) -> Outcome:
    fields: dict = {"last_synced_at": now, "failures": 0, "last_error": "", "observed_generation": instance.generation}
    waiting_since = instance.waiting_since
    if instance.unreachable_since is not None:
        # The platform's outage is not the app's: the wait for readiness resumes where it stopped.
        if waiting_since is not None:
            waiting_since += now - instance.unreachable_since
        fields["unreachable_since"] = None
        event_record(instance, kind=Kind.CLUSTER, reason="ClusterReachable", message="The cluster API answers again.")
    for change in changes:
        if change.is_drift:
            event_record(
                instance,
                kind=Kind.CLUSTER,
                reason="DriftRepaired",
                message=f"{change.why} {change.kind} {change.name}: it was changed or deleted outside the platform.",
            )
    for change, exc in failed_best_effort:
        event_record(instance, kind=Kind.ERROR, reason="VolumeNotExpanded", message=f"{change.name}: {exc.message}")

    desired, old = instance.desired_state, instance.status
    reason = "Reconciled"
    if desired == DesiredState.RUNNING:
        if health.ready and not touched:
            status, message, reason = Status.RUNNING, "", "Ready"
            fields |= {"waiting_since": None, "node": health.node, "next_reconcile_at": None}
            fields["first_ready_at"] = instance.first_ready_at or now
        else:
            waiting_since = waiting_since or now
            # An app that had been running keeps RUNNING while it restarts; FAILED stays FAILED
            # until the app is ready again; anything else is still being provisioned.
            status = old if old in (Status.RUNNING, Status.FAILED) else Status.PROVISIONING
            message = health.summary if not touched else "Applying changes; waiting for the app to become ready."
            timeout = timedelta(seconds=settings.PAAS_PROVISION_TIMEOUT)
            if status != Status.FAILED and now - waiting_since > timeout:
                status = Status.FAILED
                reason = health.problem or "ProvisionTimeout"
                minutes = settings.PAAS_PROVISION_TIMEOUT // 60
                message = f"Not ready after {minutes} minutes. {health.summary}".strip()
            elif status == Status.PROVISIONING:
                reason = "Provisioning"
            fields |= {"waiting_since": waiting_since, "next_reconcile_at": now + _poll_delay(waiting_since, now)}
    elif desired == DesiredState.STOPPED:
        if health.idle and not touched:
            status, message, reason = Status.STOPPED, "", "Stopped"
            fields |= {"waiting_since": None, "node": "", "next_reconcile_at": None}
        else:
            status, message = old, "Stopping: waiting for the app's pods to exit."
            fields["next_reconcile_at"] = now + _poll_delay(None, now)
    else:
        deleting = any(c.verb == "delete" for c in changes)
        if health.gone and not deleting:
            status, message, reason = Status.DELETED, "", "Deleted"
            fields |= {"waiting_since": None, "node": "", "next_reconcile_at": None}
        else:
            status, message, reason = Status.DELETING, "Removing the app's workloads.", "Deleting"
            fields["next_reconcile_at"] = now + _poll_delay(None, now)
    fields |= {"status": status, "status_message": message[:500]}
    _transition(instance, fields, reason=reason)
    return Outcome.CONVERGED if fields.get("next_reconcile_at") is None else Outcome.CONVERGING


def _unreachable(instance: ServiceInstance, exc: ClusterUnavailable, now: datetime) -> Outcome:
    since = instance.unreachable_since or now
    if instance.unreachable_since is None:
        event_record(instance, kind=Kind.CLUSTER, reason="ClusterUnreachable", message=exc.message)
        logger.warning("cluster unreachable", extra={"instance_id": str(instance.pk), "error": exc.message})
    # Look again sooner while the outage is young; never fail the app for it.
    wait = min(timedelta(minutes=5), max(timedelta(seconds=5), (now - since) / 2))
    _save(instance, {"unreachable_since": since, "last_error": exc.message[:500], "next_reconcile_at": now + wait})
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
        "unreachable_since": None,
        "next_reconcile_at": now + _backoff(failures),
    }
    if failures >= settings.PAAS_RECONCILE_MAX_ATTEMPTS and instance.status != Status.FAILED:
        fields |= {"status": Status.FAILED, "status_message": f"The cluster refused the change: {message}"[:500]}
    _transition(instance, fields, reason=reason)
    return Outcome.REFUSED
