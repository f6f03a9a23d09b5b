from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Credit billing: wallets, the append-only ledger, Midtrans top-ups, invoices."""

    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy check)
