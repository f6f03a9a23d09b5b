"""The audit trail of operators' actions: console actions and forms, and the operators' API.

``audited(actor, action, target, ...)`` snapshots the target, runs the change, snapshots it again
and writes one ``AuditEntry`` (also when the change was refused: ``outcome`` says why).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from paas.exceptions import DomainError
from paas.models import AuditEntry

T = TypeVar("T")

# Never copied into the trail, whatever a model calls them.
_SECRET_FIELDS = {"password", "secrets_sealed", "token_hash", "secret_sealed", "sealed_context", "lease_token"}


def snapshot(obj: models.Model | None, fields: Iterable[str] | None = None) -> dict | None:
    """The object's concrete field values as JSON (secrets left out)."""
    if obj is None:
        return None
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    values = {name: getattr(obj, name, None) for name in names if name not in _SECRET_FIELDS}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder, default=str))


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
    outcome: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        action=action[:64],
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        reason=reason[:500],
        before=before,
        after=after,
        outcome=outcome[:500],
    )


def audited(actor, action: str, target: models.Model, run: Callable[[], T], *, reason: str = "") -> T:
    """Run ``run`` (a service call changing ``target``) and write the audit entry, before and
    after included, in one transaction: no change commits without its entry. ``before`` is read
    under the target's row lock. A refusal (a ``DomainError`` or a validation error) is recorded,
    then re-raised."""
    try:
        with transaction.atomic():
            locked = type(target)._default_manager.select_for_update().filter(pk=target.pk).first()
            before = snapshot(locked or target)
            result = run()
            changed = result if isinstance(result, type(target)) else target
            fresh = type(target)._default_manager.filter(pk=changed.pk).first()
            audit_record(actor=actor, action=action, target=target, reason=reason, before=before, after=snapshot(fresh))
    except (DomainError, ValidationError) as exc:
        message = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [])) or str(exc)
        audit_record(
            actor=actor,
            action=action,
            target=target,
            reason=reason,
            before=snapshot(target),
            outcome=f"Refused: {message}",
        )
        raise
    return result


def audited_create(actor, action: str, run: Callable[[], T], *, reason: str = "") -> T:
    """Run ``run`` (a service call that creates and returns an object) and write its audit entry,
    in one transaction: nothing is created without its entry."""
    with transaction.atomic():
        created = run()
        audit_record(actor=actor, action=action, target=created, reason=reason, after=snapshot(created))
    return created
