"""An instance's history: events written, status changes told to the owner and to other apps."""

from __future__ import annotations

from django.utils import timezone

from notifications.services import emit_on_commit
from pods import hooks
from pods.models import InstanceEvent, ServiceInstance

Status = ServiceInstance.Status

# What the owner is told (email and webhooks) when an instance reaches a status.
STATUS_EVENTS = {
    Status.RUNNING: "instance.ready",
    Status.FAILED: "instance.failed",
    Status.STOPPED: "instance.stopped",
    Status.DELETED: "instance.deleted",
}


def event_record(
    instance: ServiceInstance,
    *,
    kind: str,
    reason: str,
    message: str = "",
    actor=None,
    from_status: str = "",
    to_status: str = "",
) -> InstanceEvent:
    return InstanceEvent.objects.create(
        instance=instance,
        kind=kind,
        reason=reason[:64],
        message=message[:1000],
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )


def instance_payload(instance: ServiceInstance) -> dict:
    """What events say about an instance: nothing secret, the names people recognise."""
    return {
        "instance": {
            "id": str(instance.pk),
            "name": instance.name,
            "service": instance.service.name,
            "plan": instance.plan.name,
            "status": instance.status,
            "desired_state": instance.desired_state,
            "status_message": instance.status_message,
            "url": instance.url,
            "namespace": instance.namespace,
            "ever_ready": instance.first_ready_at is not None,
        }
    }


def status_changed(instance: ServiceInstance, *, old: str, reason: str, was_ever_ready: bool) -> None:
    """Record that ``instance`` (already saved with its new status) left ``old``: an event, the
    owner's notification, and the listeners of ``pods.hooks.instance_status_changed``, all after
    commit."""
    new = instance.status
    event_record(
        instance,
        kind=InstanceEvent.Kind.STATUS,
        reason=reason,
        message=instance.status_message,
        from_status=old,
        to_status=new,
    )
    event = STATUS_EVENTS.get(new)
    if event is not None:
        emit_on_commit(event, user=instance.owner, payload=instance_payload(instance))
    hooks.instance_status_changed.send(
        hooks.StatusChange(
            instance_id=instance.pk,
            old=old,
            new=new,
            reason=reason,
            message=instance.status_message,
            at=timezone.now(),
            was_ever_ready=was_ever_ready,
        )
    )
