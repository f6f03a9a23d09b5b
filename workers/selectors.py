"""Reads of worker nodes, for operators."""

from __future__ import annotations

import uuid

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from paas.exceptions import NotFound
from pods.models import ServiceInstance

from .models import WorkerNode


def worker_list_admin() -> QuerySet[WorkerNode]:
    """Every node with ``instances_count``: the live instances whose app runs there."""
    on_node = (
        ServiceInstance.objects.live()
        .filter(node=OuterRef("name"))
        .order_by()
        .values("node")
        .annotate(n=Count("id"))
        .values("n")
    )
    return WorkerNode.objects.annotate(
        instances_count=Coalesce(Subquery(on_node, output_field=IntegerField()), 0)
    ).order_by("name")


def worker_get_admin(*, ref: str) -> WorkerNode:
    """A node by id or by name."""
    try:
        lookup = {"pk": uuid.UUID(str(ref))}
    except ValueError:
        lookup = {"name": str(ref)[:253]}
    node = worker_list_admin().filter(**lookup).first()
    if node is None:
        raise NotFound("No such worker node.")
    return node
