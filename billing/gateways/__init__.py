"""Payment gateways behind one small interface, chosen by ``settings.PAYMENT_GATEWAY``.

Only ``billing.services`` calls ``get_payment_gateway()``.
"""

from django.conf import settings
from django.core.cache import cache

from .types import (
    ChargeRequest,
    ChargeSession,
    Customer,
    GatewayError,
    GatewayUnavailable,
    Outcome,
    PaymentGateway,
    PaymentStatus,
)

__all__ = [
    "ChargeRequest",
    "ChargeSession",
    "Customer",
    "GatewayError",
    "GatewayUnavailable",
    "Outcome",
    "PaymentGateway",
    "PaymentStatus",
    "get_payment_gateway",
]


def get_payment_gateway() -> PaymentGateway:
    """A gateway built from the current settings (cheap; no connection is opened here)."""
    name = settings.PAYMENT_GATEWAY
    if name == "midtrans":
        from .midtrans import MidtransGateway  # keeps midtransclient out of simulator-only runs

        return MidtransGateway(
            server_key=settings.MIDTRANS_SERVER_KEY,
            client_key=settings.MIDTRANS_CLIENT_KEY,
            is_production=settings.MIDTRANS_IS_PRODUCTION,
            timeout=tuple(settings.MIDTRANS_TIMEOUT),
            notification_url=settings.MIDTRANS_NOTIFICATION_URL,
            finish_url=settings.MIDTRANS_FINISH_URL,
        )
    if name == "simulator":
        from .simulator import SimulatorGateway

        return SimulatorGateway(
            server_key=settings.MIDTRANS_SERVER_KEY, base_url=settings.PAYMENT_SIMULATOR_BASE_URL, store=cache
        )
    raise GatewayError(f"Unknown PAYMENT_GATEWAY {name!r}: use 'midtrans' or 'simulator'.")
