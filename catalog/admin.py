from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q

from templates.registry import template_choices

from . import services
from .models import Plan, Service


class PlanInline(admin.TabularInline):
    model = Plan
    extra = 0
    fields = ["slug", "name", "price_monthly", "cpu_millicores", "memory_mb", "storage_gb", "is_active"]
    show_change_link = True


class ServiceAdminForm(forms.ModelForm):
    # A select of the registered blueprints instead of free text.
    template = forms.ChoiceField(choices=template_choices)

    class Meta:
        model = Service
        fields = ["slug", "name", "description", "category", "template", "version", "is_active"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = ["name", "slug", "template", "version", "category", "is_active", "active_plan_count", "updated_at"]
    list_filter = ["is_active", "template", "category"]
    search_fields = ["name", "slug", "description"]
    readonly_fields = ["id", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["id", "slug", "name", "description", "category"]}),
        ("Deployment", {"fields": ["template", "version", "is_active"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [PlanInline]
    actions = ["activate", "deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_active_plans=Count("plans", filter=Q(plans__is_active=True)))

    @admin.display(ordering="_active_plans", description="Active plans")
    def active_plan_count(self, obj) -> int:
        return obj._active_plans

    @admin.action(description="Show selected services in the public catalog")
    def activate(self, request, queryset):
        for service in queryset:
            services.service_set_active(service=service, is_active=True)
        self.message_user(request, f"{len(queryset)} service(s) activated.", messages.SUCCESS)

    @admin.action(description="Hide selected services from the public catalog")
    def deactivate(self, request, queryset):
        for service in queryset:
            services.service_set_active(service=service, is_active=False)
        self.message_user(request, f"{len(queryset)} service(s) deactivated.", messages.SUCCESS)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "service",
        "slug",
        "price_monthly",
        "cpu_millicores",
        "memory_mb",
        "storage_gb",
        "is_active",
    ]
    list_filter = ["is_active", "service"]
    list_select_related = ["service"]
    search_fields = ["name", "slug", "service__name", "service__slug"]
    readonly_fields = ["id", "created_at", "updated_at"]
    raw_id_fields = ["service"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate selected plans (no new subscriptions)")
    def deactivate(self, request, queryset):
        for plan in queryset.select_related("service"):
            services.plan_update(plan=plan, data={"is_active": False})
        self.message_user(request, f"{len(queryset)} plan(s) deactivated.", messages.SUCCESS)
