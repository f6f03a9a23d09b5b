from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from paas.api.serializers import OutputModelSerializer, StrictInputSerializer
from pods.models import InstanceEvent, ServiceInstance
from pods.selectors import instance_is_stale
from pods.services.live import LOG_TAIL_MAX


class UsageSerializer(serializers.Serializer):
    cpu_millicores = serializers.IntegerField()
    memory_mb = serializers.IntegerField()
    sampled_at = serializers.DateTimeField()


class InstanceSerializer(OutputModelSerializer):
    """An instance as its owner sees it (the ``instance`` of a subscription in API.md).

    ``stale`` is true when the cluster could not be read lately: the status shown is the last known.
    """

    url = serializers.CharField(read_only=True)
    usage = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()

    class Meta:
        model = ServiceInstance
        fields = [
            "id",
            "status",
            "desired_state",
            "url",
            "namespace",
            "status_message",
            "usage",
            "stale",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(UsageSerializer(allow_null=True))
    def get_usage(self, obj) -> dict | None:
        if obj.usage_sampled_at is None:
            return None
        return {
            "cpu_millicores": obj.usage_cpu_millicores,
            "memory_mb": obj.usage_memory_mb,
            "sampled_at": obj.usage_sampled_at,
        }

    def get_stale(self, obj) -> bool:
        return instance_is_stale(obj)


class AdminInstanceSerializer(InstanceSerializer):
    """``at_risk``: its app is on a node that stopped reporting (it may still run there; see
    docs/workers.md before moving it)."""

    owner = serializers.SerializerMethodField()
    node_status = serializers.CharField(read_only=True, allow_null=True)
    at_risk = serializers.SerializerMethodField()
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta(InstanceSerializer.Meta):
        fields = [
            *InstanceSerializer.Meta.fields,
            "name",
            "owner",
            "service",
            "plan",
            "host",
            "node",
            "node_status",
            "at_risk",
            "generation",
            "observed_generation",
            "failures",
            "last_error",
            "last_synced_at",
            "first_ready_at",
            "deleted_at",
            "purge_after",
            "purged_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_at_risk(self, obj) -> bool:
        return obj.node_status == "OFFLINE" and obj.desired_state != ServiceInstance.DesiredState.DELETED

    def get_owner(self, obj) -> dict:
        return {"id": str(obj.owner_id), "email": obj.owner.email}


class InstanceEventSerializer(serializers.ModelSerializer):
    """One entry of an instance's history. ``by`` says who asked: ``owner``, ``operator`` or
    ``platform`` (operators are not named to customers)."""

    by = serializers.SerializerMethodField()

    class Meta:
        model = InstanceEvent
        fields = ["id", "created_at", "kind", "reason", "message", "from_status", "to_status", "by"]
        read_only_fields = fields

    def get_by(self, obj) -> str:
        if obj.actor_id is None:
            return "platform"
        return "owner" if obj.actor_id == self.context["owner_id"] else "operator"


class AdminInstanceEventSerializer(InstanceEventSerializer):
    actor = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta(InstanceEventSerializer.Meta):
        fields = [*InstanceEventSerializer.Meta.fields, "actor"]
        read_only_fields = fields


class AdminInstanceDetailSerializer(AdminInstanceSerializer):
    """An instance with what the cluster says right now (``live``) and its latest history."""

    live = serializers.SerializerMethodField()
    recent_events = serializers.SerializerMethodField()

    class Meta(AdminInstanceSerializer.Meta):
        fields = [*AdminInstanceSerializer.Meta.fields, "live", "recent_events"]
        read_only_fields = fields

    def get_live(self, obj) -> dict:
        return self.context["live"]

    @extend_schema_field(AdminInstanceEventSerializer(many=True))
    def get_recent_events(self, obj) -> list:
        return AdminInstanceEventSerializer(self.context["events"], many=True, context={"owner_id": obj.owner_id}).data


class LogsQuerySerializer(serializers.Serializer):
    tail = serializers.IntegerField(min_value=1, max_value=LOG_TAIL_MAX, default=100)


class LogsSerializer(serializers.Serializer):
    tail = serializers.IntegerField()
    lines = serializers.ListField(child=serializers.CharField())


class ReconcileInputSerializer(StrictInputSerializer):
    instance = serializers.UUIDField(required=False, help_text="One instance; all of them when left out.")
