from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from paas.audit import audited
from paas.exceptions import DomainError
from paas.models import AuditEntry, IdempotencyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the services write (ledgers, histories, logs): no add, change or delete here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Console actions that run a service on each selected object, write an audit entry for each
    (refusals too), and tell the operator how it went."""

    def run_each(self, request, queryset, action: str, call, done: str, *, reason: str = "") -> int:
        """``call(obj)`` for each object; returns how many went through."""
        ok = 0
        for obj in queryset:
            try:
                audited(request.user, action, obj, lambda obj=obj: call(obj), reason=reason)
                ok += 1
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
            except ValidationError as exc:
                self.message_user(request, f"{obj}: {' '.join(exc.messages)}", messages.WARNING)
        self.message_user(request, f"{ok} {model_ngettext(self.model._meta, ok)} {done}.", messages.SUCCESS)
        return ok


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Replayable first responses of POSTs sent with an Idempotency-Key: read-only."""

    list_display = ["created_at", "user", "method", "path", "state", "response_status"]
    list_filter = ["state", "method"]
    search_fields = ["key", "user__email", "path"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Every operator action, with before and after: read-only, for everyone."""

    list_display = ["created_at", "actor", "action", "target_type", "target_repr", "reason", "outcome"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "target_repr", "reason", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    readonly_fields = ["changes", *(f.name for f in AuditEntry._meta.fields)]

    @admin.display(description="what changed")
    def changes(self, obj):
        before, after = obj.before or {}, obj.after or {}
        # Bookkeeping timestamps change on every save; showing them would hide what matters.
        keys = [k for k in sorted(before.keys() | after.keys()) if k != "updated_at" and before.get(k) != after.get(k)]
        if not keys:
            return "nothing"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((key, before.get(key, "—"), after.get(key, "—")) for key in keys),
        )
        return format_html("<table><tr><th></th><th>before</th><th>after</th></tr>{}</table>", rows)
