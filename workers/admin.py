"""The operator console for worker nodes: status at a glance, last seen, cordon actions."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from paas.admin import AuditedAdmin

from . import services
from .models import NodeEvent, WorkerNode
from .selectors import worker_list_admin

COLOURS = {"READY": "#15803d", "NOT_READY": "#b45309", "OFFLINE": "#b91c1c"}


class NodeEventInline(admin.TabularInline):
    model = NodeEvent
    fields = ["created_at", "reason", "message", "from_status", "to_status"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkerNode)
class WorkerNodeAdmin(AuditedAdmin):
    list_display = [
        "name",
        "status_badge",
        "cordoned",
        "last_seen",
        "instances",
        "allocatable_cpu_millicores",
        "allocatable_memory_mb",
        "cpu_percent",
        "memory_percent",
        "kubelet_version",
    ]
    list_filter = ["status", "cordoned", "unschedulable", "source"]
    search_fields = ["name", "hostname", "ip_address"]
    actions = ["cordon", "uncordon"]
    exclude = ["token_hash"]
    readonly_fields = [f.name for f in WorkerNode._meta.fields if f.name not in ("token_hash", "labels")]
    inlines = [NodeEventInline]

    def get_queryset(self, request):
        return worker_list_admin()

    def has_add_permission(self, request) -> bool:
        return False  # the token would have to be shown: nodes are added through the API or their agent

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span style="color:{};font-weight:600">{}</span>', COLOURS[obj.status], obj.status)

    @admin.display(description="last seen", ordering="last_heartbeat_at")
    def last_seen(self, obj):
        if obj.last_heartbeat_at is None:
            return "never"
        seconds = int((timezone.now() - obj.last_heartbeat_at).total_seconds())
        return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"

    @admin.display(description="apps", ordering="instances_count")
    def instances(self, obj):
        return obj.instances_count

    @admin.action(description="Cordon: no new apps on the selected nodes")
    def cordon(self, request, queryset):
        self.run_each(
            request, queryset, "node.cordon", lambda n: services.node_set_cordoned(node=n, cordoned=True), "cordoned"
        )

    @admin.action(description="Uncordon the selected nodes")
    def uncordon(self, request, queryset):
        self.run_each(
            request,
            queryset,
            "node.uncordon",
            lambda n: services.node_set_cordoned(node=n, cordoned=False),
            "uncordoned",
        )
