"""What an app's own host name answers when the request reaches the platform."""

import pytest

from pods import services
from pods.models import ServiceInstance

from .factories import make_instance

pytestmark = pytest.mark.django_db


def _get(client, instance, path="/"):
    return client.get(path, HTTP_HOST=f"{instance.host}:8000")


def test_a_stopped_app_answers_a_pause_page_not_a_502(client, user, cluster):
    instance = make_instance(user)
    services.instance_stop(instance=instance)
    for path in ("/", "/wp-admin/", "/api/v1/auth/me", "/admin/"):
        response = _get(client, instance, path)
        assert response.status_code == 503, path
        assert b"This app is paused" in response.content
        assert response["Retry-After"] and response["X-Robots-Tag"] == "noindex"


def test_a_running_app_on_the_emulator_says_there_is_nothing_real_behind_it(client, user, cluster):
    instance = make_instance(user)
    services.reconcile(instance.pk)
    cluster.tick()
    services.reconcile(instance.pk)
    response = _get(client, instance)
    assert response.status_code == 200 and b"simulated cluster" in response.content


def test_an_app_that_is_starting_says_so(client, user, cluster):
    instance = make_instance(user)
    assert _get(client, instance).status_code == 503


def test_deleted_and_unknown_hosts_are_404_and_reveal_nothing(client, user, settings, cluster):
    instance = make_instance(user)
    services.instance_delete(instance=instance)
    assert _get(client, instance).status_code == 404
    response = client.get("/", HTTP_HOST=f"nothing-here.{settings.PAAS_APPS_DOMAIN}")
    assert response.status_code == 404 and b"No app here" in response.content


def test_the_platform_itself_is_not_served_on_app_hosts_but_is_on_its_own(client, user):
    instance = make_instance(user)
    ServiceInstance.objects.filter(pk=instance.pk).update(status="RUNNING")
    assert b"health" not in _get(client, instance, "/healthz").content
    assert client.get("/healthz").json() == {"status": "ok"}
