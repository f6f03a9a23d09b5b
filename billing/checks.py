from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_payment_gateway(app_configs, **kwargs):
    """The simulator marks any top-up paid on request: never what a public deployment wants."""
    if settings.PAYMENT_GATEWAY == "simulator" and not settings.DEBUG:
        return [
            Warning(
                "PAYMENT_GATEWAY is 'simulator' with DEBUG off: anyone holding an order id can mark it paid.",
                hint="Set PAYMENT_GATEWAY=midtrans and the MIDTRANS_* keys for a public deployment.",
                id="billing.W001",
            )
        ]
    return []


@register(Tags.security)
def check_midtrans_verify_status(app_configs, **kwargs):
    """Real payments are confirmed with the status API: the notification signature does not cover
    the transaction status. The settings refuse this at load; the check also catches a settings
    module that turns it off afterwards."""
    production = not settings.DEBUG or settings.MIDTRANS_IS_PRODUCTION
    if settings.PAYMENT_GATEWAY == "midtrans" and production and not settings.MIDTRANS_VERIFY_STATUS:
        return [
            Error(
                "MIDTRANS_VERIFY_STATUS is off with the Midtrans gateway in production: a replayed or "
                "altered notification could credit a top-up nobody paid.",
                hint="Remove MIDTRANS_VERIFY_STATUS=false (it is on by default with PAYMENT_GATEWAY=midtrans).",
                id="billing.E001",
            )
        ]
    return []
