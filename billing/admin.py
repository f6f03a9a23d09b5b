"""The operator console for billing: the ledger is read-only; operators act through actions."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from paas.admin import AuditedAdmin, ReadOnlyAdmin
from paas.exceptions import DomainError
from paas.formatting import rupiah

from . import services
from .gateways import GatewayError
from .models import Invoice, PaymentNotification, Transaction, Wallet
from .pdf import invoice_render_pdf


class InDebtFilter(admin.SimpleListFilter):
    title = "debt"
    parameter_name = "debt"

    def lookups(self, request, model_admin):
        return [("yes", "In debt (clawed back)"), ("no", "Not in debt")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(balance__lt=0)
        if self.value() == "no":
            return queryset.filter(balance__gte=0)
        return queryset


class AdjustmentForm(forms.Form):
    _selected_action = forms.CharField(widget=forms.MultipleHiddenInput)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, help_text="Signed: + credits, - debits (IDR).")
    reason = forms.CharField(max_length=255, help_text="Written on the ledger row and in the audit trail.")


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin, AuditedAdmin):
    list_display = ["user", "balance_idr", "debt_since", "updated_at"]
    list_filter = [InDebtFilter]
    search_fields = ["user__email", "user__name"]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "balance", "debt_since", "created_at", "updated_at"]
    actions = ["adjust"]

    @admin.display(description="balance", ordering="balance")
    def balance_idr(self, obj):
        return rupiah(obj.balance)

    @admin.action(description="Credit or debit the selected wallets, with a reason")
    def adjust(self, request, queryset):
        if "apply" in request.POST:
            form = AdjustmentForm(request.POST)
            if form.is_valid():
                amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
                self.run_each(
                    request,
                    queryset.select_related("user"),
                    "wallet.adjust",
                    lambda wallet: services.wallet_adjust(
                        actor=request.user, user=wallet.user, amount=amount, reason=reason
                    ),
                    "adjusted",
                    reason=reason,
                )
                return None
        else:
            form = AdjustmentForm(
                initial={"_selected_action": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Credit adjustment",
            "form": form,
            "wallets": queryset,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/adjust.html", context)


class StalePendingFilter(admin.SimpleListFilter):
    title = "pending top-ups"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("expired", "Past their deadline")]

    def queryset(self, request, queryset):
        if self.value() == "expired":
            return queryset.filter(status=Transaction.Status.PENDING, expires_at__lte=timezone.now())
        return queryset


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin, AuditedAdmin):
    list_display = [
        "created_at",
        "user",
        "type",
        "status",
        "amount_idr",
        "balance_after_idr",
        "order_id",
        "gateway_status",
    ]
    list_filter = ["type", "status", "gateway", StalePendingFilter, "created_at"]
    search_fields = ["id", "order_id", "user__email", "gateway_transaction_id", "description", "=subscription_id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["sync_with_gateway"]
    readonly_fields = [f.name for f in Transaction._meta.fields]

    @admin.display(description="amount", ordering="amount")
    def amount_idr(self, obj):
        return rupiah(obj.amount)

    @admin.display(description="balance after", ordering="balance_after")
    def balance_after_idr(self, obj):
        return rupiah(obj.balance_after)

    @admin.action(description="Ask the payment gateway for the status of selected pending top-ups")
    def sync_with_gateway(self, request, queryset):
        synced = 0
        for topup in queryset.filter(type=Transaction.Type.TOPUP, status=Transaction.Status.PENDING):
            try:
                outcome = services.topup_sync(topup_id=topup.pk)
            except (GatewayError, DomainError) as exc:
                self.message_user(request, f"{topup.order_id}: {exc}", messages.ERROR)
                continue
            synced += 1
            self.message_user(request, f"{topup.order_id}: {outcome}")
        self.message_user(request, f"Synced {synced} top-up(s).", messages.SUCCESS)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "issued_at", "customer_email", "total_idr", "pdf_link"]
    list_filter = ["year", "transaction__type"]
    search_fields = ["number", "customer_email", "customer_name", "payment_reference"]
    list_select_related = ["transaction"]
    readonly_fields = [f.name for f in Invoice._meta.fields]

    @admin.display(description="total", ordering="total")
    def total_idr(self, obj):
        return rupiah(obj.total)

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        url = reverse("admin:billing_invoice_pdf", args=[obj.pk])
        return format_html('<a href="{}">PDF</a>', url)

    def get_urls(self):
        def pdf_view(request, pk):
            invoice = get_object_or_404(Invoice, pk=pk)
            return HttpResponse(invoice_render_pdf(invoice), content_type="application/pdf")

        return [
            path("<uuid:pk>/pdf/", self.admin_site.admin_view(pdf_view), name="billing_invoice_pdf"),
            *super().get_urls(),
        ]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "order_id", "transaction_status", "fraud_status", "verified_status", "outcome"]
    list_filter = ["outcome", "transaction_status", "received_at"]
    search_fields = ["order_id"]
    readonly_fields = [f.name for f in PaymentNotification._meta.fields]
