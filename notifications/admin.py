from django.contrib import admin

from paas.admin import AuditedAdmin

from . import services
from .models import EmailMessage, WebhookDelivery, WebhookEndpoint


def _all_fields(model, *, but=()) -> list[str]:
    return [f.name for f in model._meta.fields if f.name not in but]


@admin.register(EmailMessage)
class EmailMessageAdmin(AuditedAdmin):
    list_display = ["to", "template", "subject", "status", "attempts", "sent_at", "created_at"]
    list_filter = ["status", "template"]
    search_fields = ["to", "subject", "provider_id", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    exclude = ["sealed_context"]
    # A log: every column is read-only but the sealed secrets, which never leave the database.
    readonly_fields = _all_fields(EmailMessage, but=exclude)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("sealed_context", "context")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send the selected emails again")
    def resend(self, request, queryset):
        # A single-use link (a sent reset email) cannot be copied: refused, with the reason.
        self.run_each(
            request,
            queryset.select_related("user"),
            "email.resend",
            lambda m: services.email_resend(message=m),
            "queued again",
        )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedAdmin):
    list_display = ["url", "user", "is_active", "consecutive_failures", "last_success_at", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "user__email", "description"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    actions = ["disable", "enable"]
    exclude = ["secret_sealed"]
    # Only the description is edited here; the rest changes through the actions and the API.
    readonly_fields = _all_fields(WebhookEndpoint, but=[*exclude, "description"])

    def has_add_permission(self, request) -> bool:
        # The secret is shown once to whoever creates the endpoint: only its owner, through the API.
        return False

    @admin.action(description="Turn off the selected endpoints (and tell their owners)")
    def disable(self, request, queryset):
        self.run_each(
            request,
            queryset.select_related("user"),
            "webhook.disable",
            lambda e: services.webhook_endpoint_disable(endpoint=e, reason="Turned off by an operator."),
            "turned off",
        )

    @admin.action(description="Turn on the selected endpoints")
    def enable(self, request, queryset):
        self.run_each(
            request, queryset, "webhook.enable", lambda e: services.webhook_endpoint_enable(endpoint=e), "turned on"
        )

    def save_model(self, request, obj, form, change):
        # Only the description is editable here; workflow fields change through the actions.
        services.webhook_endpoint_update(endpoint=obj, data={"description": obj.description})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AuditedAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_status", "latency_ms", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["endpoint__url", "endpoint__user__email", "=event_id"]
    list_select_related = ["endpoint"]
    raw_id_fields = ["endpoint"]
    date_hierarchy = "created_at"
    actions = ["redeliver"]
    readonly_fields = _all_fields(WebhookDelivery)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Deliver the selected events again")
    def redeliver(self, request, queryset):
        self.run_each(
            request,
            queryset.select_related("endpoint"),
            "webhook.redeliver",
            lambda d: services.webhook_delivery_redeliver(delivery=d),
            "queued again",
        )
