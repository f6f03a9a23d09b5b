from decimal import Decimal

from django.conf import settings

from billing import services
from billing.gateways.simulator import build_notification
from billing.models import Transaction


def completed_topup(*, user, amount="100000.00") -> Transaction:
    """A top-up paid through the real flow: create, then a settlement status applied."""
    from billing.gateways import PaymentStatus

    topup = services.topup_create(user=user, amount=Decimal(amount))
    status = PaymentStatus.from_midtrans(notification_for(topup, "settlement"))
    services.topup_apply_status(topup_id=topup.pk, status=status)
    topup.refresh_from_db()
    return topup


def notification_for(
    topup: Transaction,
    transaction_status: str,
    *,
    gross_amount: str | None = None,
    fraud_status: str | None = "accept",
    payment_type: str = "bank_transfer",
    server_key: str | None = None,
    **extra,
) -> dict:
    """A Midtrans notification body for ``topup``, correctly signed unless told otherwise."""
    return build_notification(
        order_id=topup.order_id,
        gross_amount=gross_amount or f"{topup.amount:.2f}",
        transaction_status=transaction_status,
        server_key=server_key or settings.MIDTRANS_SERVER_KEY,
        fraud_status=fraud_status,
        payment_type=payment_type,
        extra=extra or None,
    )
