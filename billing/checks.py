from django.conf import settings
from django.core.checks import Tags, Warning, register


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
