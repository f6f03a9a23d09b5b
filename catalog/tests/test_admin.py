import pytest
from django.test import Client

from catalog.models import Service

from .factories import PlanFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_service_changelist_and_change_page_with_inline_plans(browser):
    plan = PlanFactory(service=ServiceFactory(name="Ghost", template="ghost"), name="Starter")

    changelist = browser.get("/admin/catalog/service/")
    change = browser.get(f"/admin/catalog/service/{plan.service_id}/change/")

    assert changelist.status_code == 200
    assert b"Ghost" in changelist.content
    assert change.status_code == 200
    assert b"Starter" in change.content  # the inline
    assert b'<option value="wordpress"' in change.content  # template is a select of blueprints


def test_deactivate_action_goes_through_the_service(browser):
    service = ServiceFactory()
    response = browser.post(
        "/admin/catalog/service/",
        {"action": "deactivate", "_selected_action": [str(service.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    service.refresh_from_db()
    assert service.is_active is False


def test_admin_form_rejects_unknown_template(browser):
    response = browser.post(
        "/admin/catalog/service/add/",
        {
            "slug": "x",
            "name": "X",
            "template": "drupal",
            "plans-TOTAL_FORMS": "0",
            "plans-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not Service.objects.exists()
