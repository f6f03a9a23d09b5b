"""The operator console: the logs are readable, never show secrets, and actions go through services."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications import services
from notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from paas.models import AuditEntry

from .factories import EmailMessageFactory, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", ["emailmessage", "webhookendpoint", "webhookdelivery"])
def test_changelists_load(model, operator, user):
    endpoint = WebhookEndpointFactory(user=user)
    WebhookDeliveryFactory(endpoint=endpoint)
    EmailMessageFactory(user=user)

    response = operator.get(reverse(f"admin:notifications_{model}_changelist"))

    assert response.status_code == 200
    assert "result_list" in response.content.decode()


def test_a_customer_cannot_open_the_console(client, user):
    client.force_login(user)

    response = client.get(reverse("admin:notifications_emailmessage_changelist"))

    assert response.status_code == 302


def test_change_pages_show_no_secrets(operator, user, django_capture_on_commit_callbacks):
    endpoint, secret = services.webhook_endpoint_create(
        user=user, url="https://hooks.example.com/paas", events=["balance.low"]
    )
    message = services.email_queue(
        user=user,
        template="password-reset",
        context={"minutes": 120},
        secret_context={"reset_link": "https://app.example.com/r?uid=u&token=tok-123"},
    )

    endpoint_page = operator.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]))
    message_page = operator.get(reverse("admin:notifications_emailmessage_change", args=[message.pk]))

    assert endpoint_page.status_code == message_page.status_code == 200
    assert secret not in endpoint_page.content.decode() and endpoint.secret_sealed not in endpoint_page.content.decode()
    assert "tok-123" not in message_page.content.decode()
    assert message.sealed_context not in message_page.content.decode()


def test_resend_action_queues_copies(operator, user, django_capture_on_commit_callbacks):
    failed = EmailMessageFactory(user=user, status=EmailMessage.Status.FAILED, sent_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            reverse("admin:notifications_emailmessage_changelist"),
            {"action": "resend", "_selected_action": [str(failed.pk)]},
            follow=True,
        )

    assert response.status_code == 200
    assert "1 email message queued again." in response.content.decode()
    assert AuditEntry.objects.get(action="email.resend").target_id == str(failed.pk)
    assert EmailMessage.objects.filter(user=user, status=EmailMessage.Status.SENT).count() == 1
    assert len(mail.outbox) == 1


def test_redeliver_action_creates_a_new_delivery(operator, user, django_capture_on_commit_callbacks):
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(user=user), status=WebhookDelivery.Status.FAILED)

    with django_capture_on_commit_callbacks(execute=False):
        response = operator.post(
            reverse("admin:notifications_webhookdelivery_changelist"),
            {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
            follow=True,
        )

    assert response.status_code == 200
    copy = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert (copy.status, copy.event_id, copy.attempts) == (WebhookDelivery.Status.PENDING, delivery.event_id, 0)


def test_disable_action_turns_endpoints_off_and_tells_owners(operator, user, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        operator.post(
            reverse("admin:notifications_webhookendpoint_changelist"),
            {"action": "disable", "_selected_action": [str(endpoint.pk)]},
        )

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "Turned off by an operator."
    assert [m.subject for m in mail.outbox] == ["Your webhook endpoint was turned off"]
    assert WebhookEndpoint.objects.count() == 1
