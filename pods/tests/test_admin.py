"""The operator console for instances: created and controlled through the same services."""

import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD
from pods.models import InstanceEvent, ServiceInstance

from .factories import make_instance, seeded_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, admin_user):
    client.login(username=admin_user.email, password=DEFAULT_PASSWORD)
    return client


def test_an_operator_creates_an_instance_from_the_console(console, admin_user, user, cluster):
    plan = seeded_plan("wordpress")
    response = console.post(
        reverse("admin:pods_serviceinstance_add"),
        {"owner": str(user.pk), "plan": str(plan.pk), "name": "Shop", "config": '{"debug": true}'},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    instance = ServiceInstance.objects.get(owner=user)
    assert (instance.name, instance.config["debug"], instance.status) == ("Shop", True, "PENDING")
    assert InstanceEvent.objects.get(instance=instance, reason="Created").actor == admin_user


def test_a_bad_config_is_shown_on_the_form_and_nothing_is_created(console, user, cluster):
    plan = seeded_plan("wordpress")
    response = console.post(
        reverse("admin:pods_serviceinstance_add"),
        {"owner": str(user.pk), "plan": str(plan.pk), "name": "Shop", "config": '{"table_prefix": "wp-; DROP"}'},
    )
    assert response.status_code == 200
    assert "Invalid format" in response.content.decode()
    assert not ServiceInstance.objects.exists()


def test_actions_run_the_services_and_report(console, admin_user, user, cluster):
    running = make_instance(user)
    deleted = make_instance(user, service="ghost")
    changelist = reverse("admin:pods_serviceinstance_changelist")

    response = console.post(
        changelist, {"action": "stop", "_selected_action": [str(running.pk), str(deleted.pk)]}, follow=True
    )
    assert "2 service instances stopping" in response.content.decode()
    console.post(changelist, {"action": "delete_instances", "_selected_action": [str(deleted.pk)]})
    response = console.post(changelist, {"action": "start", "_selected_action": [str(deleted.pk)]}, follow=True)
    assert "restore it first" in response.content.decode()

    running.refresh_from_db()
    deleted.refresh_from_db()
    assert (running.desired_state, deleted.desired_state) == ("STOPPED", "DELETED")
    actors = set(InstanceEvent.objects.filter(kind="action").exclude(reason="Created").values_list("actor", flat=True))
    assert actors == {admin_user.pk}


def test_the_change_page_shows_history_and_hides_secrets(console, user, cluster):
    instance = make_instance(user)
    page = console.get(reverse("admin:pods_serviceinstance_change", args=[instance.pk])).content.decode()
    assert "Created" in page and instance.secrets_sealed not in page
