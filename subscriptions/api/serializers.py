from rest_framework import serializers

from catalog.models import Plan, Service
from catalog.selectors import id_or_slug_lookup
from paas.api.serializers import OutputModelSerializer, StrictBooleanField, StrictInputSerializer
from pods.api.serializers import InstanceSerializer
from subscriptions.models import Subscription


class _ServiceSummary(OutputModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class _PlanSummary(OutputModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "slug", "name", "price_monthly"]
        read_only_fields = fields


class SubscriptionSerializer(OutputModelSerializer):
    """A subscription and its app (``instance``). ``period_price`` is what the current period is
    billed at; ``cancel_at_period_end`` is true once cancelled to run out its period."""

    service = _ServiceSummary(read_only=True)
    plan = _PlanSummary(read_only=True)
    instance = InstanceSerializer(read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "service",
            "plan",
            "status",
            "auto_renew",
            "cancel_at_period_end",
            "current_period_start",
            "current_period_end",
            "grace_until",
            "period_price",
            "instance",
            "created_at",
        ]
        read_only_fields = fields


class _Reference(serializers.CharField):
    """An id or a slug (``n8n``, ``starter``)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if id_or_slug_lookup(value) is None:
            raise serializers.ValidationError("Not an id or a slug.")
        return value


class SubscriptionCreateInputSerializer(StrictInputSerializer):
    service = _Reference(max_length=64, help_text="Service id or slug, e.g. n8n.")
    plan = _Reference(max_length=64, help_text="Plan id or slug of that service, e.g. starter.")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, trim_whitespace=False)
    config = serializers.JSONField(required=False, help_text="The app's settings; see the service's template.")

    def validate(self, data):
        service = Service.objects.filter(**id_or_slug_lookup(data["service"])).first()
        if service is None:
            raise serializers.ValidationError({"service": ["No such service."]})
        plan = service.plans.filter(**id_or_slug_lookup(data["plan"])).first()
        if plan is None:
            raise serializers.ValidationError({"plan": ["No such plan for this service."]})
        return {**data, "service": service, "plan": plan}


class SubscriptionUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False, trim_whitespace=False)
    auto_renew = StrictBooleanField(required=False)


class CancelInputSerializer(StrictInputSerializer):
    immediate = StrictBooleanField(
        default=False, help_text="End now, delete the app and credit the unused part of the period."
    )


class ChangePlanInputSerializer(StrictInputSerializer):
    plan = _Reference(max_length=64, help_text="Plan id or slug of the same service.")


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.CharField(source="event_id")
    source = serializers.ChoiceField(choices=["subscription", "instance"])
    created_at = serializers.DateTimeField()
    reason = serializers.CharField()
    message = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.SerializerMethodField()

    def get_by(self, obj) -> str:
        if obj["actor_id"] is None:
            return "platform"
        return "owner" if obj["actor_id"] == self.context["owner_id"] else "operator"
