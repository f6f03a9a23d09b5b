"""Instances made the way the product makes them (``instance_create``): secrets sealed, host set."""

from catalog.models import Plan
from catalog.services import catalog_seed
from pods.services import instance_create


def seeded_plan(service: str = "n8n", plan: str = "starter") -> Plan:
    catalog_seed()
    return Plan.objects.select_related("service").get(service__slug=service, slug=plan)


def make_instance(owner, *, service: str = "n8n", plan: str = "starter", name: str | None = None, config=None):
    return instance_create(owner=owner, plan=seeded_plan(service, plan), name=name, config=config)


def stray_secret(namespace: str, *, instance_label: str, name: str = "left-behind") -> None:
    """A Secret labelled as the platform's for an instance the database does not know, written out
    of band (as a person with kubectl would, under their own field manager)."""
    from pods.services.cluster import get_cluster

    get_cluster()._api("CoreV1Api").create_namespaced_secret(
        namespace,
        {
            "metadata": {
                "name": name,
                "labels": {"app.kubernetes.io/managed-by": "paas", "paas/instance-id": instance_label},
            }
        },
        field_manager="test",
    )
