from django.contrib import admin

from paas.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Replayable first responses of POSTs sent with an Idempotency-Key: read-only."""

    list_display = ["created_at", "user", "method", "path", "state", "response_status"]
    list_filter = ["state", "method"]
    search_fields = ["key", "user__email", "path"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
