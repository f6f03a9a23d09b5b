"""What is sellable (``Plan.objects.sellable()``, ``Service.objects.sellable()``): one definition
for the public catalog, purchases and plan changes, and the console."""

import pytest

from catalog.models import Plan, Service

from .factories import PlanFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans() -> dict[str, Plan]:
    sold, withdrawn = ServiceFactory(slug="sold"), ServiceFactory(slug="withdrawn", is_active=False)
    return {
        "on-sale": PlanFactory(service=sold, slug="on-sale"),
        "plan-withdrawn": PlanFactory(service=sold, slug="plan-withdrawn", is_active=False),
        "service-withdrawn": PlanFactory(service=withdrawn, slug="service-withdrawn"),
    }


def test_a_plan_is_sellable_when_it_and_its_service_are_active(plans):
    assert set(Plan.objects.sellable().values_list("slug", flat=True)) == {"on-sale"}
    assert set(Service.objects.sellable().values_list("slug", flat=True)) == {"sold"}


def test_the_public_catalog_shows_the_sellable_plans(plans, api_client):
    body = api_client.get("/api/v1/services").json()
    shown = {(s["slug"], p["slug"]) for s in body["results"] for p in s["plans"]}
    assert shown == {("sold", "on-sale")}
