from decimal import Decimal

from rest_framework import serializers

from catalog.models import (
    MAX_CPU_MILLICORES,
    MAX_MEMORY_MB,
    MAX_STORAGE_GB,
    Plan,
    Service,
)
from paas.api.serializers import OutputModelSerializer, StrictBooleanField, StrictInputSerializer

# --- Output ------------------------------------------------------------------------------------


class PlanSerializer(OutputModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "slug", "name", "price_monthly", "cpu_millicores", "memory_mb", "storage_gb"]
        read_only_fields = fields


class ServiceSerializer(OutputModelSerializer):
    plans = PlanSerializer(many=True, read_only=True, source="active_plans")

    class Meta:
        model = Service
        fields = ["id", "slug", "name", "description", "category", "template", "version", "plans"]
        read_only_fields = fields


class AdminPlanSerializer(OutputModelSerializer):
    service = serializers.UUIDField(source="service_id", read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "service",
            "slug",
            "name",
            "price_monthly",
            "cpu_millicores",
            "memory_mb",
            "storage_gb",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AdminServiceSerializer(OutputModelSerializer):
    plans = AdminPlanSerializer(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "category",
            "template",
            "version",
            "is_active",
            "plans",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ConfigResultSerializer(serializers.Serializer):
    config = serializers.DictField(help_text="The config completed with every default.")


# --- Input -------------------------------------------------------------------------------------


class ServiceInputSerializer(StrictInputSerializer):
    """Create a service; with ``partial=True`` (PATCH) every field is optional."""

    slug = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=100)
    template = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    category = serializers.CharField(max_length=50, required=False, allow_blank=True)
    version = serializers.CharField(max_length=50, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)


class PlanInputSerializer(StrictInputSerializer):
    """Create a plan; with ``partial=True`` (PATCH) every field is optional."""

    slug = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=100)
    price_monthly = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    cpu_millicores = serializers.IntegerField(min_value=1, max_value=MAX_CPU_MILLICORES)
    memory_mb = serializers.IntegerField(min_value=1, max_value=MAX_MEMORY_MB)
    storage_gb = serializers.IntegerField(min_value=1, max_value=MAX_STORAGE_GB)
    is_active = StrictBooleanField(required=False)


class ConfigValidateInputSerializer(StrictInputSerializer):
    config = serializers.JSONField(required=False, default=dict, help_text="Settings for the service's template.")
