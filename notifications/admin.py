from django.contrib import admin, messages

from . import services
from .exceptions import EmailNotResendable
from .models import EmailMessage, WebhookDelivery, WebhookEndpoint


def _all_fields(model, *, but=()) -> list[str]:
    return [f.name for f in model._meta.fields if f.name not in but]


@admin.register(EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
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
        sent, refused = 0, 0
        for message in queryset.select_related("user"):
            try:
                services.email_resend(message=message)
                sent += 1
            except EmailNotResendable:
                refused += 1
        self.message_user(request, f"{sent} email(s) queued again.", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"{refused} email(s) carried a single-use link and were not sent again.", messages.WARNING
            )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
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
        count = sum(
            services.webhook_endpoint_disable(endpoint=endpoint, reason="Turned off by an operator.")
            for endpoint in queryset.select_related("user")
        )
        self.message_user(request, f"{count} endpoint(s) turned off.", messages.SUCCESS)

    @admin.action(description="Turn on the selected endpoints")
    def enable(self, request, queryset):
        for endpoint in queryset:
            services.webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) turned on.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        # Only the description is editable here; workflow fields change through the actions.
        services.webhook_endpoint_update(endpoint=obj, data={"description": obj.description})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
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
        count = 0
        for delivery in queryset.select_related("endpoint"):
            services.webhook_delivery_redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)
