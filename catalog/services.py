"""Every write on the catalog: services and plans (admin API, Django admin, seed)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from paas.exceptions import Conflict

from . import hooks
from .models import Plan, Service
from .seed_data import SEED_SERVICES

logger = logging.getLogger(__name__)

SERVICE_FIELDS = ("slug", "name", "description", "category", "template", "version", "is_active")
PLAN_FIELDS = ("slug", "name", "price_monthly", "cpu_millicores", "memory_mb", "storage_gb", "is_active")
SIZE_FIELDS = ("cpu_millicores", "memory_mb", "storage_gb")


def _save(obj: models.Model, *, duplicate: dict[str, list[str]], update_fields: list[str] | None = None) -> None:
    obj.full_clean()
    try:
        # The savepoint keeps an outer transaction usable when a concurrent write took the slug.
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise ValidationError(duplicate) from exc


def _delete_or_conflict(obj: models.Model, *, message: str) -> None:
    """Delete ``obj``, or raise ``Conflict`` (409) when a PROTECT relation still points at it.

    Generic on purpose: whatever model later references ours with on_delete=PROTECT (plans by
    subscriptions, services by plans) is refused the same way, and nothing is deleted.
    """
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        blocking = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
        raise Conflict(message, extra={"protected_by": blocking}) from exc


# --- Services ----------------------------------------------------------------------------------


def _service_duplicate() -> dict[str, list[str]]:
    return {"slug": ["A service with this slug already exists."]}


@transaction.atomic
def service_create(
    *,
    slug: str,
    name: str,
    template: str,
    description: str = "",
    category: str = "",
    version: str = "",
    is_active: bool = True,
) -> Service:
    service = Service(
        slug=slug,
        name=name,
        template=template,
        description=description,
        category=category,
        version=version,
        is_active=is_active,
    )
    _save(service, duplicate=_service_duplicate())
    logger.info("catalog service created", extra={"service_id": str(service.id), "slug": slug})
    return service


@transaction.atomic
def service_update(*, service: Service, data: dict[str, Any]) -> Service:
    """Set the given fields (a subset of ``SERVICE_FIELDS``) and save only those."""
    fields = [f for f in SERVICE_FIELDS if f in data]
    for field in fields:
        setattr(service, field, data[field])
    if fields:
        _save(service, duplicate=_service_duplicate(), update_fields=[*fields, "updated_at"])
    return service


@transaction.atomic
def service_set_active(*, service: Service, is_active: bool) -> Service:
    return service_update(service=service, data={"is_active": is_active})


def service_delete(*, service: Service) -> None:
    """Delete a service without plans; one that still has plans is a 409 (deactivate it instead)."""
    _delete_or_conflict(
        service, message="This service still has plans or subscriptions; deactivate it or delete its plans first."
    )
    logger.info("catalog service deleted", extra={"service_id": str(service.pk)})


# --- Plans -------------------------------------------------------------------------------------


def _plan_duplicate() -> dict[str, list[str]]:
    return {"slug": ["This service already has a plan with this slug."]}


def _check_plan_slug_free(*, service: Service, slug: str, exclude_id=None) -> None:
    # The unique constraint spans two fields, so full_clean would report it without a field.
    taken = Plan.objects.filter(service=service, slug=slug)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError(_plan_duplicate())


@transaction.atomic
def plan_create(
    *,
    service: Service,
    slug: str,
    name: str,
    price_monthly: Decimal,
    cpu_millicores: int,
    memory_mb: int,
    storage_gb: int,
    is_active: bool = True,
) -> Plan:
    _check_plan_slug_free(service=service, slug=slug)
    plan = Plan(
        service=service,
        slug=slug,
        name=name,
        price_monthly=price_monthly,
        cpu_millicores=cpu_millicores,
        memory_mb=memory_mb,
        storage_gb=storage_gb,
        is_active=is_active,
    )
    _save(plan, duplicate=_plan_duplicate())
    logger.info("catalog plan created", extra={"plan_id": str(plan.id), "service_id": str(service.id)})
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, data: dict[str, Any]) -> Plan:
    """Set the given fields (a subset of ``PLAN_FIELDS``). New sizes reach the instances on the
    plan once this commits (``catalog.hooks.plan_resized``: they are reconciled); prices apply from
    the next renewal."""
    fields = [f for f in PLAN_FIELDS if f in data]
    if "slug" in data:
        _check_plan_slug_free(service=plan.service, slug=data["slug"], exclude_id=plan.pk)
    resized = any(f in SIZE_FIELDS and data[f] != getattr(plan, f) for f in fields)
    for field in fields:
        setattr(plan, field, data[field])
    if fields:
        _save(plan, duplicate=_plan_duplicate(), update_fields=[*fields, "updated_at"])
    if resized:
        hooks.plan_resized.send(hooks.PlanResized(plan_id=plan.pk))
    return plan


def plan_delete(*, plan: Plan) -> None:
    """Delete a plan nothing uses; a plan with subscriptions is a 409 (deactivate it instead)."""
    _delete_or_conflict(plan, message="This plan has subscriptions; deactivate it instead.")
    logger.info("catalog plan deleted", extra={"plan_id": str(plan.pk)})


# --- Seed --------------------------------------------------------------------------------------


@transaction.atomic
def catalog_seed() -> dict[str, int]:
    """Create the shipped services and plans that are missing. Idempotent.

    Existing rows are left as they are, so an operator's price or description change survives
    any number of runs. Returns how many services and plans were created.
    """
    created = {"services": 0, "plans": 0}
    for spec in SEED_SERVICES:
        service = Service.objects.filter(slug=spec["slug"]).first()
        if service is None:
            service = service_create(**{k: v for k, v in spec.items() if k != "plans"})
            created["services"] += 1
        existing = set(service.plans.values_list("slug", flat=True))
        for plan_spec in spec["plans"]:
            if plan_spec["slug"] not in existing:
                plan_create(service=service, **plan_spec)
                created["plans"] += 1
    return created
