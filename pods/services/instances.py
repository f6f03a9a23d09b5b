"""What customers and operators ask of an instance: create, stop, start, restart, delete, restore,
change its plan. Each request records who asked, bumps the instance's generation and hands the
work to the reconcile loop after commit; none of them waits for the cluster.

Repeating a request that is already in effect changes nothing (stopping a stopped instance); a
request the instance's state forbids is ``InvalidState`` (409), e.g. starting a deleted instance.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.hooks import PlanResized
from paas.bulk import any_of
from paas.exceptions import InvalidState
from paas.queue import enqueue_each_on_commit, enqueue_on_commit
from pods.exceptions import RetentionExpired
from pods.models import InstanceEvent, ServiceInstance
from templates.config import config_validate
from templates.naming import namespace_for_user

from .desired import host_for, secrets_new
from .history import event_record

Status = ServiceInstance.Status
DesiredState = ServiceInstance.DesiredState
Kind = InstanceEvent.Kind

NAME_MAX = 100


def _reconcile_soon(instance_id) -> None:
    from pods.tasks import instance_reconcile_task

    enqueue_on_commit(instance_reconcile_task, str(instance_id))


def instance_name_clean(name: str | None, *, default: str) -> str:
    """The display name as typed, trimmed; control characters and line breaks are refused."""
    name = (name if name is not None else default).strip()
    if not name:
        name = default
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [f"At most {NAME_MAX} characters."]})
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"} for ch in name):
        raise ValidationError({"name": ["Control and invisible characters are not allowed."]})
    return name


@transaction.atomic
def instance_create(*, owner, plan, name: str | None = None, config=None, actor=None) -> ServiceInstance:
    """A new instance of ``plan``'s service for ``owner``, to be provisioned in their namespace.

    ``config`` is validated against the service's template (``ValidationError`` keyed ``config.<field>``);
    the instance's secrets are generated now and stored sealed.
    """
    service = plan.service
    normalized = config_validate(template_key=service.template, config=config, field_prefix="config.")
    # The purge of the owner's last instance decides under this lock whether their namespace goes.
    # NO KEY UPDATE: it must not block the inserts (ledger rows) that reference the user.
    type(owner).objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
    instance = ServiceInstance(
        id=uuid.uuid4(),
        owner=owner,
        service=service,
        plan=plan,
        name=instance_name_clean(name, default=service.name),
        config=normalized,
        namespace=namespace_for_user(owner.pk),
        secrets_sealed=secrets_new(template_key=service.template),
        # The task queued on commit normally runs first; this makes sure the loop looks anyway.
        next_reconcile_at=timezone.now(),
    )
    instance.host = host_for(instance)
    instance.save(force_insert=True)
    event_record(
        instance,
        kind=Kind.ACTION,
        reason="Created",
        message=f"{service.name} on plan {plan.name}.",
        actor=actor,
        to_status=instance.status,
    )
    _reconcile_soon(instance.pk)
    return instance


def _locked(instance: ServiceInstance) -> ServiceInstance:
    return ServiceInstance.objects.select_for_update().select_related("service", "plan").get(pk=instance.pk)


def _request(instance: ServiceInstance, *, actor, reason: str, message: str, **changes) -> ServiceInstance:
    """Save ``changes`` with a new generation, write the history and queue a reconcile.

    ``next_reconcile_at`` is set too: should the queued task find the instance busy (a pass just
    ending), ``reconcile_due`` picks it up within seconds. A new request starts a new wait.
    """
    changes |= {"waiting_since": None, "next_reconcile_at": timezone.now()}
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.generation = F("generation") + 1
    instance.save(update_fields=[*changes, "generation", "updated_at"])
    instance.refresh_from_db(fields=["generation"])
    event_record(instance, kind=Kind.ACTION, reason=reason, message=message, actor=actor)
    _reconcile_soon(instance.pk)
    return instance


def _refuse_if_deleted(instance: ServiceInstance, action: str) -> None:
    if instance.desired_state == DesiredState.DELETED:
        raise InvalidState(f"A deleted instance cannot be {action}; restore it first.")


@transaction.atomic
def instance_stop(*, instance: ServiceInstance, actor=None, reason: str = "StopRequested") -> ServiceInstance:
    """Scale the app to zero; its volumes, Secrets and URL stay (the URL shows a pause page)."""
    instance = _locked(instance)
    _refuse_if_deleted(instance, "stopped")
    if instance.desired_state == DesiredState.STOPPED:
        return instance
    return _request(instance, actor=actor, reason=reason, message="Stop requested.", desired_state=DesiredState.STOPPED)


@transaction.atomic
def instances_stop(*, instance_ids, reason: str = "StopRequested") -> list:
    """``instance_stop`` for many instances at once (the billing clock's suspensions), in a
    constant number of queries: each running one gets desired STOPPED, a new generation and its
    history entry; stopped and deleted ones are left as they are. Their reconciles are not queued
    one message each: ``next_reconcile_at`` is now, so the loop's due scan (every few seconds)
    picks them up. Returns the ids asked to stop."""
    ids = list(
        ServiceInstance.objects.select_for_update()
        .filter(any_of(ServiceInstance, "id", list(instance_ids)), desired_state=DesiredState.RUNNING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    now = timezone.now()
    ServiceInstance.objects.filter(any_of(ServiceInstance, "id", ids)).update(
        desired_state=DesiredState.STOPPED,
        generation=F("generation") + 1,
        waiting_since=None,
        next_reconcile_at=now,
        updated_at=now,
    )
    InstanceEvent.objects.bulk_create(
        [InstanceEvent(instance_id=i, kind=Kind.ACTION, reason=reason[:64], message="Stop requested.") for i in ids]
    )
    return ids


@transaction.atomic
def instance_start(*, instance: ServiceInstance, actor=None, reason: str = "StartRequested") -> ServiceInstance:
    """Run a stopped app again, on the data it had."""
    instance = _locked(instance)
    _refuse_if_deleted(instance, "started")
    if instance.desired_state == DesiredState.RUNNING:
        return instance
    return _request(
        instance,
        actor=actor,
        reason=reason,
        message="Start requested.",
        desired_state=DesiredState.RUNNING,
    )


@transaction.atomic
def instance_restart(*, instance: ServiceInstance, actor=None) -> ServiceInstance:
    """Replace the app's pods (a rollout restart); its data stays."""
    instance = _locked(instance)
    _refuse_if_deleted(instance, "restarted")
    if instance.desired_state != DesiredState.RUNNING:
        raise InvalidState("A stopped instance cannot be restarted; start it instead.")
    return _request(
        instance,
        actor=actor,
        reason="RestartRequested",
        message="Restart requested.",
        restart_requested_at=timezone.now(),
    )


@transaction.atomic
def instance_delete(*, instance: ServiceInstance, actor=None, reason: str = "DeleteRequested") -> ServiceInstance:
    """Remove the app's workloads at once; keep its volumes and Secrets for the retention window."""
    instance = _locked(instance)
    if instance.desired_state == DesiredState.DELETED:
        return instance
    now = timezone.now()
    hours = settings.PAAS_DELETE_RETENTION_HOURS
    return _request(
        instance,
        actor=actor,
        reason=reason,
        message=f"Delete requested; volumes and secrets are kept for {hours} hours.",
        desired_state=DesiredState.DELETED,
        deleted_at=now,
        purge_after=now + timedelta(hours=hours),
    )


@transaction.atomic
def instance_restore(*, instance: ServiceInstance, actor=None) -> ServiceInstance:
    """Undo a delete within the retention window: the app runs again on its kept volumes."""
    instance = _locked(instance)
    if instance.desired_state != DesiredState.DELETED:
        raise InvalidState("Only a deleted instance can be restored.")
    if instance.purged_at is not None or (instance.purge_after and instance.purge_after <= timezone.now()):
        raise RetentionExpired()
    return _request(
        instance,
        actor=actor,
        reason="RestoreRequested",
        message="Restore requested: the app runs again on the volumes it kept.",
        desired_state=DesiredState.RUNNING,
        deleted_at=None,
        purge_after=None,
    )


@transaction.atomic
def instance_change_plan(*, instance: ServiceInstance, plan, actor=None) -> ServiceInstance:
    """Move the instance to another plan of its service: new resources and quota on the next reconcile."""
    instance = _locked(instance)
    _refuse_if_deleted(instance, "resized")
    if plan.service_id != instance.service_id:
        raise ValidationError({"plan": ["The plan belongs to another service."]})
    if plan.pk == instance.plan_id:
        return instance
    old = instance.plan
    return _request(instance, actor=actor, reason="PlanChanged", message=f"Plan {old.name} -> {plan.name}.", plan=plan)


@transaction.atomic
def instances_refresh_for_plan(*, plan_id) -> int:
    """After an operator edits a plan's sizes: every instance on it that holds capacity gets a new
    generation, so the reconcile loop applies the new resources and quota (queued once this commits)."""
    from pods.tasks import instance_reconcile_task

    on_plan = ServiceInstance.objects.holding_capacity().filter(plan_id=plan_id)
    ids = list(on_plan.values_list("pk", flat=True))
    on_plan.update(generation=F("generation") + 1, updated_at=timezone.now())
    enqueue_each_on_commit(instance_reconcile_task, ids)
    return len(ids)


def plan_resized(change: PlanResized) -> None:
    """catalog listener (after the plan's commit): the instances on a resized plan are reconciled."""
    instances_refresh_for_plan(plan_id=change.plan_id)


def instance_reconcile_soon(*, instance: ServiceInstance, actor=None) -> None:
    """An operator's "reconcile now": the loop looks at the instance at once."""
    event_record(instance, kind=Kind.ACTION, reason="ReconcileRequested", message="Reconcile requested.", actor=actor)
    _reconcile_soon(instance.pk)
