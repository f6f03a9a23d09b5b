"""A local stand-in for Midtrans: the customer "pays" on a page this backend serves.

The page (``billing.views.simulator_checkout``) records the chosen outcome here and posts a
correctly signed, Midtrans-shaped notification to the real webhook, so the whole top-up flow runs
without an account or network. ``get_status`` answers from what the page recorded, like the
status API would.
"""

import secrets
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .signature import compute_signature
from .types import ChargeRequest, ChargeSession, PaymentStatus

JAKARTA = ZoneInfo("Asia/Jakarta")

# status_code as Midtrans puts it in notifications: signature input, never the payment state.
STATUS_CODES = {
    "capture": "200",
    "settlement": "200",
    "refund": "200",
    "partial_refund": "200",
    "chargeback": "200",
    "partial_chargeback": "200",
    "pending": "201",
    "deny": "202",
    "cancel": "202",
    "expire": "202",
    "failure": "202",
}


class Store(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> None: ...


def build_notification(
    *,
    order_id: str,
    gross_amount: str,
    transaction_status: str,
    server_key: str,
    fraud_status: str | None = "accept",
    payment_type: str = "bank_transfer",
    transaction_id: str | None = None,
    extra: dict | None = None,
) -> dict:
    """A notification body as Midtrans sends it, signed with ``server_key``."""
    status_code = STATUS_CODES.get(transaction_status, "200")
    body = {
        "transaction_time": datetime.now(JAKARTA).strftime("%Y-%m-%d %H:%M:%S"),
        "transaction_status": transaction_status,
        "transaction_id": transaction_id or str(uuid.uuid4()),
        "status_message": "midtrans payment notification",
        "status_code": status_code,
        "payment_type": payment_type,
        "order_id": order_id,
        "merchant_id": "SIMULATOR",
        "gross_amount": gross_amount,
        "currency": "IDR",
        "signature_key": compute_signature(
            order_id=order_id, status_code=status_code, gross_amount=gross_amount, server_key=server_key
        ),
    }
    if fraud_status is not None:
        body["fraud_status"] = fraud_status
    if payment_type == "bank_transfer":
        body["va_numbers"] = [{"bank": "bca", "va_number": "".join(secrets.choice("0123456789") for _ in range(11))}]
    body.update(extra or {})
    return body


def gross_amount_text(amount: Decimal) -> str:
    """Midtrans writes amounts in notifications with two decimals: "150000.00"."""
    return f"{amount:.2f}"


class SimulatorGateway:
    """Payments that happen on a local page; state kept in ``store`` (the Django cache)."""

    name = "simulator"

    def __init__(self, *, server_key: str, base_url: str, store: Store, ttl_seconds: int = 7 * 24 * 3600):
        self._server_key = server_key
        self._base_url = base_url.rstrip("/")
        self._store = store
        self._ttl = ttl_seconds

    def __repr__(self) -> str:
        return "<SimulatorGateway>"

    @staticmethod
    def _key(order_id: str) -> str:
        return f"billing:simulator:{order_id}"

    def checkout_url(self, order_id: str) -> str:
        return f"{self._base_url}/api/v1/billing/simulator/checkout/{order_id}"

    def create_charge(self, request: ChargeRequest) -> ChargeSession:
        self._store.set(
            self._key(request.order_id),
            {"amount": gross_amount_text(request.amount), "transaction_status": None},
            self._ttl,
        )
        return ChargeSession(token=uuid.uuid4().hex, redirect_url=self.checkout_url(request.order_id))

    def record(self, *, order_id: str, amount: Decimal, transaction_status: str, fraud_status: str = "accept") -> dict:
        """Record the customer's choice and return the signed notification to deliver."""
        body = build_notification(
            order_id=order_id,
            gross_amount=gross_amount_text(amount),
            transaction_status=transaction_status,
            fraud_status=fraud_status,
            server_key=self._server_key,
        )
        self._store.set(self._key(order_id), {**body, "signature_key": ""}, self._ttl)
        return body

    def get_status(self, order_id: str) -> PaymentStatus | None:
        state = self._store.get(self._key(order_id))
        if not state or not state.get("transaction_status"):
            return None  # like Snap: no payment method chosen yet
        return PaymentStatus.from_midtrans(state)

    def cancel(self, order_id: str) -> None:
        state = self._store.get(self._key(order_id))
        if state and state.get("transaction_status") in (None, "pending"):
            self._store.set(self._key(order_id), {**state, "transaction_status": "expire"}, self._ttl)
