"""Reads scoped to what a user may see: another user's rows are simply not found."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from paas.selectors import get_or_not_found

from .filters import WebhookDeliveryFilterSet
from .models import EmailMessage, WebhookDelivery, WebhookEndpoint


def email_message_list(*, user) -> QuerySet[EmailMessage]:
    """The user's emails, newest first, without the columns the list never shows."""
    return EmailMessage.objects.filter(user=user).only(
        "id", "user_id", "subject", "template", "status", "sent_at", "created_at"
    )


def webhook_endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user)


def webhook_endpoint_get_for_user(*, user, endpoint_id) -> WebhookEndpoint:
    return get_or_not_found(webhook_endpoint_list(user=user), message="No such webhook endpoint.", pk=endpoint_id)


def webhook_delivery_list(*, endpoint: WebhookEndpoint, filters=None) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, without the body (it can be large).

    ``filters`` (``status``, ``event``) go through ``WebhookDeliveryFilterSet``; an invalid one
    raises ``ValidationError``.
    """
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).defer("body")
    filterset = WebhookDeliveryFilterSet(filters or {}, queryset=deliveries)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs
