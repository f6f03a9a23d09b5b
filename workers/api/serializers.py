import re

from rest_framework import serializers

from paas.api.serializers import StrictBooleanField, StrictInputSerializer
from workers.models import WorkerNode

# Node names are DNS-1123 subdomains, as Kubernetes requires of Node names.
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _labels(value):
    if not isinstance(value, dict) or len(value) > 64:
        raise serializers.ValidationError("At most 64 labels, as an object of strings.")
    for key, item in value.items():
        if not isinstance(item, str) or len(str(key)) > 317 or len(item) > 63:
            raise serializers.ValidationError("Label keys and values are strings (values at most 63 characters).")
    return value


class CapacitySerializer(StrictInputSerializer):
    cpu_millicores = serializers.IntegerField(min_value=0, max_value=100_000_000)
    memory_mb = serializers.IntegerField(min_value=0, max_value=1_000_000_000)
    pods = serializers.IntegerField(min_value=0, max_value=100_000)


class WorkerRegisterInputSerializer(StrictInputSerializer):
    name = serializers.RegexField(NAME_RE, max_length=253)
    hostname = serializers.CharField(max_length=253, allow_blank=True, required=False, default="")
    ip_address = serializers.IPAddressField(required=False, allow_null=True, default=None)
    capacity = CapacitySerializer()
    labels = serializers.JSONField(required=False, default=dict, validators=[_labels])
    kubelet_version = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")


class UsageSerializer(serializers.Serializer):
    cpu_percent = serializers.FloatField(min_value=0, max_value=100)
    memory_percent = serializers.FloatField(min_value=0, max_value=100)
    pods_running = serializers.IntegerField(min_value=0, max_value=100_000)


class HeartbeatInputSerializer(serializers.Serializer):
    """An agent's report. Unknown fields are ignored, so older platforms accept newer agents."""

    status = serializers.ChoiceField(choices=[WorkerNode.Status.READY, WorkerNode.Status.NOT_READY])
    usage = UsageSerializer()
    conditions = serializers.ListField(child=serializers.DictField(), required=False, max_length=32)


class WorkerRegisteredSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    token = serializers.CharField(help_text="The node's own secret: shown only here.")
    heartbeat_interval = serializers.IntegerField()


class HeartbeatAnswerSerializer(serializers.Serializer):
    heartbeat_interval = serializers.IntegerField()


class WorkerSerializer(serializers.ModelSerializer):
    capacity = serializers.SerializerMethodField()
    allocatable = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    instances_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = WorkerNode
        fields = [
            "id",
            "name",
            "hostname",
            "ip_address",
            "status",
            "cordoned",
            "unschedulable",
            "source",
            "capacity",
            "allocatable",
            "usage",
            "labels",
            "kubelet_version",
            "last_heartbeat_at",
            "instances_count",
            "created_at",
        ]
        read_only_fields = fields

    def get_capacity(self, obj) -> dict:
        return {"cpu_millicores": obj.cpu_millicores, "memory_mb": obj.memory_mb, "pods": obj.pods}

    def get_allocatable(self, obj) -> dict:
        return {
            "cpu_millicores": obj.allocatable_cpu_millicores,
            "memory_mb": obj.allocatable_memory_mb,
            "pods": obj.allocatable_pods,
        }

    def get_usage(self, obj) -> dict | None:
        if obj.cpu_percent is None:
            return None
        return {"cpu_percent": obj.cpu_percent, "memory_percent": obj.memory_percent, "pods_running": obj.pods_running}


class WorkerCreatedSerializer(WorkerSerializer):
    token = serializers.CharField(help_text="The node's own secret: shown only here.")

    class Meta(WorkerSerializer.Meta):
        fields = [*WorkerSerializer.Meta.fields, "token"]
        read_only_fields = fields


class WorkerCreateInputSerializer(StrictInputSerializer):
    name = serializers.RegexField(NAME_RE, max_length=253)
    hostname = serializers.CharField(max_length=253, allow_blank=True, required=False, default="")
    ip_address = serializers.IPAddressField(required=False, allow_null=True, default=None)
    capacity = CapacitySerializer()
    labels = serializers.JSONField(required=False, default=dict, validators=[_labels])


class WorkerUpdateInputSerializer(StrictInputSerializer):
    hostname = serializers.CharField(max_length=253, allow_blank=True, required=False)
    labels = serializers.JSONField(required=False, validators=[_labels])
    cordoned = StrictBooleanField(required=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The node's new secret: shown only here.")
