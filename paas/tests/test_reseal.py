"""Rotating SECRET_KEY: every sealed value re-sealed under the new key, none lost, none printed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notifications import services as notifications
from notifications.models import EmailMessage
from pods.models import ServiceInstance
from pods.services.desired import instance_secrets
from subscriptions.tests.factories import buy

pytestmark = pytest.mark.django_db

OLD, NEW = "old-" + "k" * 60, "new-" + "k" * 60


def _sealed_world(user):
    endpoint, secret = notifications.webhook_endpoint_create(
        user=user, url="https://hooks.example.com/paas", events=["subscription.created"]
    )
    email = notifications.email_queue(
        user=user,
        template="password-reset",
        context={},
        secret_context={"reset_link": "https://app.example.com/reset?token=abc123"},
        defer_until_commit=False,
    )
    instance = ServiceInstance.objects.get(pk=buy(user).instance_id)
    return endpoint, secret, email, instance


def test_reseal_moves_every_secret_to_the_new_key(settings, user, cluster):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    settings.CELERY_TASK_ALWAYS_EAGER = False  # keep the email queued, its secret sealed
    endpoint, secret, email, instance = _sealed_world(user)
    app_secrets = instance_secrets(instance)
    before = (
        endpoint.secret_sealed,
        EmailMessage.objects.get(pk=email.pk).sealed_context,
        instance.secrets_sealed,
    )

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    out = StringIO()
    call_command("reseal_secrets", stdout=out)
    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone: only the re-sealed values open

    endpoint.refresh_from_db()
    instance.refresh_from_db()
    queued = EmailMessage.objects.get(pk=email.pk)
    assert (endpoint.secret_sealed, queued.sealed_context, instance.secrets_sealed) != before
    assert notifications.webhook_secret(endpoint) == secret
    assert instance_secrets(instance) == app_secrets
    assert "notifications.WebhookEndpoint.secret_sealed: 1 re-sealed, 0 unreadable" in out.getvalue()
    assert secret not in out.getvalue() and "abc123" not in out.getvalue()


def test_reseal_refuses_to_call_it_done_when_the_old_key_is_missing(settings, user, cluster):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD, []
    endpoint, secret, _, _ = _sealed_world(user)
    sealed = endpoint.secret_sealed

    settings.SECRET_KEY = NEW  # the operator forgot SECRET_KEY_FALLBACKS
    err = StringIO()
    with pytest.raises(CommandError, match="SECRET_KEY_FALLBACKS"):
        call_command("reseal_secrets", stdout=StringIO(), stderr=err)
    endpoint.refresh_from_db()
    assert endpoint.secret_sealed == sealed  # left as it was, still open with the old key
    assert f"WebhookEndpoint {endpoint.pk}" in err.getvalue() and secret not in err.getvalue()
