"""The operator console for instances: status at a glance, history, and the same controls as the
API, run through the same services. Workflow fields are read-only: operators act through actions."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog.models import Plan
from paas.admin import AuditedAdmin, ReadOnlyAdmin
from paas.audit import audited_create
from templates.config import config_validate

from . import services
from .models import ClusterOrphan, InstanceEvent, ServiceInstance, UsageSample
from .selectors import instance_is_stale
from .services.instances import instance_name_clean

STATUS_COLOURS = {
    "RUNNING": "#15803d",
    "PROVISIONING": "#1d4ed8",
    "PENDING": "#6b7280",
    "STOPPED": "#92400e",
    "FAILED": "#b91c1c",
    "DELETING": "#6b7280",
    "DELETED": "#6b7280",
}


class InstanceCreateForm(forms.ModelForm):
    """What an operator chooses for a new instance; everything else is derived by the service."""

    config = forms.JSONField(required=False, initial=dict, help_text="Settings of the app, as a JSON object.")

    class Meta:
        model = ServiceInstance
        fields = ["owner", "plan", "name", "config"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.sellable().select_related("service")
        self.fields["name"].required = False

    def clean(self):
        # The service validates again on save; checking here shows the errors on the form.
        data = super().clean()
        plan = data.get("plan")
        try:
            data["name"] = instance_name_clean(data.get("name"), default=plan.service.name if plan else "app")
            if plan is not None:
                data["config"] = config_validate(template_key=plan.service.template, config=data.get("config"))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else "config", errors)
        return data


class WaitingFilter(admin.SimpleListFilter):
    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("waiting", "Not converged (waiting or retrying)"),
            ("stale", "Stale (cluster not read lately)"),
            ("retained", "Deleted, volumes still kept"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(next_reconcile_at__isnull=False)
        if self.value() == "stale":
            return queryset.stale(timezone.now())
        if self.value() == "retained":
            return queryset.retained()
        return queryset


@admin.register(ServiceInstance)
class ServiceInstanceAdmin(AuditedAdmin):
    list_display = [
        "name",
        "owner",
        "service",
        "plan",
        "status_badge",
        "desired_state",
        "node",
        "last_synced_at",
        "created_at",
    ]
    list_filter = ["status", "desired_state", WaitingFilter, "service", "plan"]
    search_fields = ["id", "name", "host", "namespace", "owner__email", "node"]
    list_select_related = ["owner", "service", "plan"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    actions = ["restart", "stop", "start", "delete_instances", "restore", "reconcile_now"]
    readonly_fields = [
        f.name for f in ServiceInstance._meta.fields if f.name not in {"secrets_sealed", "lease_token"}
    ] + ["url", "stale", "history"]
    exclude = ["secrets_sealed", "lease_token"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = InstanceCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["owner", "plan", "name", "config"]
        return super().get_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting goes through the "delete" action: workloads go, volumes are kept for undo.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        created = audited_create(
            request.user,
            "instance.create",
            lambda: services.instance_create(
                owner=data["owner"], plan=data["plan"], name=data["name"], config=data["config"], actor=request.user
            ),
        )
        obj.pk = created.pk

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        stale = " (stale)" if instance_is_stale(obj) else ""
        return format_html(
            '<span style="color:{};font-weight:600">{}</span>{}',
            STATUS_COLOURS.get(obj.status, "#000"),
            obj.status,
            stale,
        )

    @admin.display(description="history")
    def history(self, obj):
        url = reverse("admin:pods_instanceevent_changelist") + f"?instance__id__exact={obj.pk}"
        latest = obj.events.order_by("-created_at", "-id").first()
        return format_html('<a href="{}">all events</a> (latest: {})', url, latest or "none")

    @admin.display(boolean=True, description="stale")
    def stale(self, obj):
        return instance_is_stale(obj)

    def _run(self, request, queryset, action, done: str) -> None:
        name = action.__name__.replace("instance_", "instance.")
        self.run_each(request, queryset, name, lambda instance: action(instance=instance, actor=request.user), done)

    @admin.action(description="Restart the selected instances")
    def restart(self, request, queryset):
        self._run(request, queryset, services.instance_restart, "restarting")

    @admin.action(description="Stop the selected instances (data kept)")
    def stop(self, request, queryset):
        self._run(request, queryset, services.instance_stop, "stopping")

    @admin.action(description="Start the selected instances")
    def start(self, request, queryset):
        self._run(request, queryset, services.instance_start, "starting")

    @admin.action(description="Delete the selected instances (volumes kept for the retention window)")
    def delete_instances(self, request, queryset):
        self._run(request, queryset, services.instance_delete, "deleting")

    @admin.action(description="Undo the delete of the selected instances")
    def restore(self, request, queryset):
        self._run(request, queryset, services.instance_restore, "restoring")

    @admin.action(description="Reconcile the selected instances now")
    def reconcile_now(self, request, queryset):
        self._run(request, queryset, services.instance_reconcile_soon, "queued for a reconcile")


@admin.register(InstanceEvent)
class InstanceEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "instance", "kind", "reason", "from_status", "to_status", "actor"]
    list_filter = ["kind", "reason"]
    search_fields = ["instance__name", "instance__id", "reason", "message"]
    list_select_related = ["instance", "actor"]
    readonly_fields = [f.name for f in InstanceEvent._meta.fields]


@admin.register(UsageSample)
class UsageSampleAdmin(ReadOnlyAdmin):
    list_display = ["sampled_at", "instance", "cpu_millicores", "memory_mb"]
    search_fields = ["instance__name", "instance__id"]
    list_select_related = ["instance"]
    date_hierarchy = "sampled_at"
    readonly_fields = [f.name for f in UsageSample._meta.fields]


@admin.register(ClusterOrphan)
class ClusterOrphanAdmin(ReadOnlyAdmin):
    list_display = ["kind", "namespace", "name", "instance_label", "first_seen_at", "last_seen_at", "removed_at"]
    list_filter = ["kind", "removed_at"]
    search_fields = ["name", "namespace", "instance_label"]
    readonly_fields = [f.name for f in ClusterOrphan._meta.fields]
