from django import forms
from django.contrib import admin
from django.db.models import Count, Q

from paas.admin import AuditedAdmin
from paas.audit import audit_record, audited, snapshot
from paas.formatting import rupiah
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
class ServiceAdmin(AuditedAdmin):
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

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.SERVICE_FIELDS if f in form.cleaned_data}
        if change:
            original = Service.objects.get(pk=obj.pk)
            audited(
                request.user, "service.change", original, lambda: services.service_update(service=original, data=data)
            )
        else:
            created = services.service_create(**data)
            audit_record(actor=request.user, action="service.create", target=created, after=snapshot(created))
            obj.pk = created.pk

    def save_formset(self, request, form, formset, change):
        # Plans edited inline go through the same services as the plan pages and the API.
        for plan_form in formset.forms:
            if not plan_form.has_changed() or not plan_form.cleaned_data or plan_form.cleaned_data.get("DELETE"):
                continue
            data = {f: plan_form.cleaned_data[f] for f in services.PLAN_FIELDS if f in plan_form.cleaned_data}
            _save_plan(request, plan_form.instance, data, service=form.instance)

    @admin.action(description="Show selected services in the public catalog")
    def activate(self, request, queryset):
        self.run_each(
            request,
            queryset,
            "service.activate",
            lambda s: services.service_set_active(service=s, is_active=True),
            "activated",
        )

    @admin.action(description="Hide selected services from the public catalog")
    def deactivate(self, request, queryset):
        self.run_each(
            request,
            queryset,
            "service.deactivate",
            lambda s: services.service_set_active(service=s, is_active=False),
            "deactivated",
        )


def _save_plan(request, plan: Plan, data: dict, *, service: Service) -> Plan:
    """Create or change a plan through the services, with its audit entry; a resize reaches the
    instances running on it."""
    if plan.pk and Plan.objects.filter(pk=plan.pk).exists():
        original = Plan.objects.select_related("service").get(pk=plan.pk)
        return audited(request.user, "plan.change", original, lambda: services.plan_update(plan=original, data=data))
    created = services.plan_create(service=service, **{k: v for k, v in data.items() if k != "service"})
    audit_record(actor=request.user, action="plan.create", target=created, after=snapshot(created))
    plan.pk = created.pk
    return created


@admin.register(Plan)
class PlanAdmin(AuditedAdmin):
    list_display = [
        "__str__",
        "service",
        "slug",
        "price",
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

    @admin.display(description="price per month", ordering="price_monthly")
    def price(self, obj):
        return rupiah(obj.price_monthly)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.PLAN_FIELDS if f in form.cleaned_data}
        _save_plan(request, obj, data, service=form.cleaned_data["service"])

    @admin.action(description="Deactivate selected plans (no new subscriptions)")
    def deactivate(self, request, queryset):
        self.run_each(
            request,
            queryset.select_related("service"),
            "plan.deactivate",
            lambda plan: services.plan_update(plan=plan, data={"is_active": False}),
            "deactivated",
        )
