from decimal import Decimal

import factory

from catalog.models import Plan, Service


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "An app."
    category = "website"
    template = "wordpress"
    version = "7.1.0"
    is_active = True


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    service = factory.SubFactory(ServiceFactory)
    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.Sequence(lambda n: f"Plan {n}")
    price_monthly = Decimal("50000.00")
    cpu_millicores = 500
    memory_mb = 1024
    storage_gb = 5
    is_active = True
