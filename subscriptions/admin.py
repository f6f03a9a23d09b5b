"""The operator console for subscriptions: filters, links to the owner's ledger and the app, and
the actions operators need, run through the same services as the API."""

from django import forms
from django.contrib import admin
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from paas.admin import AuditedAdmin, ReadOnlyAdmin

from . import services
from .models import Subscription, SubscriptionEvent


class SubscriptionEventInline(admin.TabularInline):
    model = SubscriptionEvent
    fields = ["created_at", "reason", "message", "from_status", "to_status", "amount", "actor"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReasonForm(forms.Form):
    _selected_action = forms.CharField(widget=forms.MultipleHiddenInput)
    reason = forms.CharField(max_length=300, help_text="Recorded in the subscription's history.")
    days = forms.IntegerField(min_value=1, max_value=366, required=False, help_text="For an extension only.")


@admin.register(Subscription)
class SubscriptionAdmin(AuditedAdmin):
    list_display = [
        "name",
        "user",
        "service",
        "plan",
        "status",
        "auto_renew",
        "current_period_end",
        "grace_until",
        "ledger_link",
        "instance_link",
    ]
    list_filter = ["status", "service", "plan", "auto_renew", "cancel_at_period_end"]
    search_fields = ["id", "name", "user__email", "instance__host"]
    list_select_related = ["user", "service", "plan", "instance"]
    date_hierarchy = "created_at"
    inlines = [SubscriptionEventInline]
    actions = ["suspend", "resume", "extend", "cancel_with_refund", "cancel_without_refund"]
    readonly_fields = [f.name for f in Subscription._meta.fields] + ["ledger_link", "instance_link"]

    def has_add_permission(self, request) -> bool:
        return False  # customers buy through the API: the first period is paid there

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="ledger")
    def ledger_link(self, obj):
        url = reverse("admin:billing_transaction_changelist") + f"?q={obj.pk}"
        return format_html('<a href="{}">charges and credits</a>', url)

    @admin.display(description="app")
    def instance_link(self, obj):
        url = reverse("admin:pods_serviceinstance_change", args=[obj.instance_id])
        return format_html('<a href="{}">{}</a>', url, obj.instance.status)

    def _each(self, request, queryset, action, done: str, reason: str = "", **kwargs) -> None:
        name = action.__name__.replace("subscription_", "subscription.")
        if reason:
            kwargs["reason"] = reason
        self.run_each(
            request,
            queryset,
            name,
            lambda subscription: action(subscription=subscription, actor=request.user, **kwargs),
            done,
            reason=reason,
        )

    def _with_reason(self, request, queryset, title: str, run, *, days: bool = False):
        """Ask for a reason (and a number of days) on an intermediate page, then run."""
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid() and (not days or form.cleaned_data["days"]):
                run(form.cleaned_data)
                return None
        else:
            form = ReasonForm(initial={"_selected_action": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)})
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "subscriptions": queryset,
            "action": request.POST.get("action"),
            "ask_days": days,
            "opts": self.model._meta,
        }
        return render(request, "admin/subscriptions/reason.html", context)

    @admin.action(description="Suspend the selected subscriptions (app stopped, data kept)")
    def suspend(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "Suspend subscriptions",
            lambda data: self._each(
                request, queryset, services.subscription_suspend, "suspended", reason=data["reason"]
            ),
        )

    @admin.action(description="Resume the selected suspended subscriptions (charges the renewal)")
    def resume(self, request, queryset):
        self._each(request, queryset, services.subscription_resume, "resumed")

    @admin.action(description="Extend the period of the selected subscriptions, free of charge")
    def extend(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "Extend subscriptions",
            lambda data: self._each(
                request, queryset, services.subscription_extend, "extended", days=data["days"], reason=data["reason"]
            ),
            days=True,
        )

    @admin.action(description="Cancel now, crediting the unused part of the period")
    def cancel_with_refund(self, request, queryset):
        self._each(request, queryset, services.subscription_cancel, "cancelled", immediate=True, refund=True)

    @admin.action(description="Cancel now, without a refund")
    def cancel_without_refund(self, request, queryset):
        self._each(request, queryset, services.subscription_cancel, "cancelled", immediate=True, refund=False)


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscription", "reason", "from_status", "to_status", "amount", "actor"]
    list_filter = ["reason"]
    search_fields = ["subscription__name", "subscription__id", "message"]
    list_select_related = ["subscription", "actor"]
    readonly_fields = [f.name for f in SubscriptionEvent._meta.fields]
