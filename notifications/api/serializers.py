from rest_framework import serializers

from notifications.events import WEBHOOK_EVENTS
from notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from paas.api.serializers import StrictBooleanField, StrictInputSerializer


class EmailMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmailMessage
        fields = ["id", "subject", "template", "status", "sent_at", "created_at"]
        read_only_fields = fields


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "consecutive_failures",
            "last_success_at",
            "last_failure_at",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret. Shown only in this response: keep it.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateInputSerializer(StrictInputSerializer):
    url = serializers.URLField(max_length=2048)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), allow_empty=False, max_length=len(WEBHOOK_EVENTS) * 2
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)


class WebhookEndpointUpdateInputSerializer(WebhookEndpointCreateInputSerializer):
    """Used with ``partial=True``: every field is optional."""

    is_active = StrictBooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "response_status",
            "response_body",
            "latency_ms",
            "last_error",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields
