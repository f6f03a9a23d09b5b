from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog import services
from catalog.models import Plan, Service
from catalog.seed_data import SEED_SERVICES
from paas.exceptions import Conflict

from .factories import PlanFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_catalog_seed_creates_the_shipped_catalog_once():
    first = services.catalog_seed()
    second = services.catalog_seed()

    assert first == {"services": 3, "plans": 6}
    assert second == {"services": 0, "plans": 0}
    assert sorted(Service.objects.values_list("slug", flat=True)) == ["ghost", "n8n", "wordpress"]
    for service in Service.objects.all():
        assert service.template == service.slug
        assert sorted(service.plans.values_list("slug", flat=True)) == ["pro", "starter"]
        starter, pro = service.plans.get(slug="starter"), service.plans.get(slug="pro")
        assert Decimal("0") < starter.price_monthly < pro.price_monthly


def test_catalog_seed_keeps_operator_changes_and_restores_missing_rows():
    services.catalog_seed()
    Plan.objects.filter(service__slug="ghost", slug="pro").update(price_monthly=Decimal("99.00"))
    Plan.objects.filter(service__slug="n8n", slug="starter").delete()

    assert services.catalog_seed() == {"services": 0, "plans": 1}
    assert Plan.objects.get(service__slug="ghost", slug="pro").price_monthly == Decimal("99.00")
    assert Plan.objects.filter(service__slug="n8n", slug="starter").exists()


def test_seed_plans_fit_their_blueprints():
    # full_clean in plan_create already enforces it; this names the failure if a seed drifts.
    for spec in SEED_SERVICES:
        for plan in spec["plans"]:
            Plan(service=Service(**{k: v for k, v in spec.items() if k != "plans"}), **plan).clean()


def test_service_delete_is_refused_while_plans_protect_it():
    # Plan.service is on_delete=PROTECT: the same path future subscriptions take for plans.
    plan = PlanFactory()

    with pytest.raises(Conflict) as excinfo:
        services.service_delete(service=plan.service)

    assert excinfo.value.extra == {"protected_by": ["plans"]}
    assert Service.objects.filter(pk=plan.service_id).exists()
    assert Plan.objects.filter(pk=plan.pk).exists()

    services.plan_delete(plan=plan)
    services.service_delete(service=plan.service)
    assert not Service.objects.exists()


def test_refused_delete_leaves_an_outer_transaction_usable():
    plan = PlanFactory()
    with transaction.atomic():
        with pytest.raises(Conflict):
            services.service_delete(service=plan.service)
        # Still usable: the failed delete rolled back only its savepoint.
        assert Service.objects.count() == 1


def test_service_create_validates_the_template():
    with pytest.raises(ValidationError) as excinfo:
        services.service_create(slug="x", name="X", template="drupal")
    assert "template" in excinfo.value.message_dict
    assert not Service.objects.exists()


def test_plan_update_checks_blueprint_minimums():
    plan = PlanFactory(service=ServiceFactory(template="ghost"))
    with pytest.raises(ValidationError) as excinfo:
        services.plan_update(plan=plan, data={"memory_mb": 256, "cpu_millicores": 10})
    assert set(excinfo.value.message_dict) == {"memory_mb", "cpu_millicores"}
    plan.refresh_from_db()
    assert plan.memory_mb == 1024


@pytest.mark.parametrize(
    "field",
    ["price_monthly", "cpu_millicores", "memory_mb", "storage_gb"],
)
def test_database_refuses_non_positive_plan_values(field):
    # The CheckConstraints hold even for writes that skip model validation.
    plan = PlanFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=plan.pk).update(**{field: 0})


def test_database_refuses_duplicate_plan_slug_per_service():
    plan = PlanFactory(slug="starter")
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.bulk_create(
            [
                Plan(
                    service=plan.service,
                    slug="starter",
                    name="x",
                    price_monthly=1,
                    cpu_millicores=1,
                    memory_mb=1,
                    storage_gb=1,
                )
            ]
        )
