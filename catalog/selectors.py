"""Reads of the catalog: the public view (active only) and the operators' view (everything)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db.models import Prefetch, QuerySet

from paas.exceptions import NotFound
from paas.selectors import get_or_not_found

from .models import SLUG_PATTERN, Plan, Service


def _active_plans() -> Prefetch:
    return Prefetch("plans", queryset=Plan.objects.sellable(), to_attr="active_plans")


def service_list_public() -> QuerySet[Service]:
    """Active services, each with ``active_plans`` prefetched (two queries whatever the size)."""
    return Service.objects.sellable().prefetch_related(_active_plans())


def id_or_slug_lookup(ref: str) -> dict[str, Any] | None:
    """The filter for a reference that is a UUID or a slug, or ``None`` when it can be neither.

    Anything that cannot be a slug (a NUL byte PostgreSQL would reject, 5 kB of text) is thus
    not found without a query.
    """
    try:
        return {"pk": uuid.UUID(str(ref))}
    except ValueError:
        if len(ref) > 50 or not re.fullmatch(SLUG_PATTERN, ref):
            return None
        return {"slug": ref}


def _by_id_or_slug(queryset: QuerySet[Service], id_or_slug: str) -> Service:
    lookup = id_or_slug_lookup(id_or_slug)
    service = queryset.filter(**lookup).first() if lookup is not None else None
    if service is None:
        raise NotFound("No such service.")
    return service


def service_get_public(*, id_or_slug: str) -> Service:
    """An active service by UUID or slug; an inactive or unknown one is a 404."""
    return _by_id_or_slug(service_list_public(), id_or_slug)


def service_list_admin() -> QuerySet[Service]:
    """Every service, active or not, with all its plans prefetched."""
    return Service.objects.prefetch_related("plans")


def service_get_admin(*, service_id: str) -> Service:
    """Any service by UUID. Plans are not prefetched: for one service that saves nothing, and the
    plan endpoints, which load the service first, never read them."""
    return get_or_not_found(Service.objects.all(), message="No such service.", pk=service_id)


def plan_list_admin(*, service: Service) -> QuerySet[Plan]:
    return Plan.objects.filter(service=service).select_related("service")


def plan_get_admin(*, service: Service, plan_id: str) -> Plan:
    """A plan of this service; a plan of another service is a 404 like a missing one."""
    return get_or_not_found(plan_list_admin(service=service), message="No such plan.", pk=plan_id)
