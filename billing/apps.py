from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Credit billing: wallets, the append-only ledger, Midtrans top-ups, invoices."""

    name = "billing"
    verbose_name = "Billing"
