"""The payment gateway interface: a Protocol, frozen dataclasses in and out, neutral errors.

Nothing here knows about Django models or DRF; ``billing.services`` translates these errors.
Statuses are Midtrans-shaped because both gateways speak Midtrans' notification format.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class GatewayError(Exception):
    """The gateway refused the request or answered something we cannot use (not retryable as is)."""


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached, timed out or failed on its side: retry later."""


class Outcome(enum.StrEnum):
    """What a gateway status means for our top-up."""

    SUCCESS = "success"
    PENDING = "pending"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"


_FAILED = {"deny": Outcome.FAILED, "failure": Outcome.FAILED, "cancel": Outcome.CANCELLED, "expire": Outcome.EXPIRED}
_REFUNDED = {"refund", "partial_refund", "chargeback", "partial_chargeback"}


def outcome_for(transaction_status: str, fraud_status: str | None) -> Outcome:
    """Map Midtrans' ``transaction_status`` + ``fraud_status`` to an outcome.

    Success is settlement, or capture with fraud accept (an absent fraud_status counts as accept:
    low-risk methods are not screened). ``status_code`` is deliberately not consulted: Midtrans
    documents it as the result of the API call, not the payment state.
    """
    fraud = (fraud_status or "accept").lower()
    status = transaction_status.lower()
    if status in {"settlement", "capture"}:
        if fraud == "accept":
            return Outcome.SUCCESS
        if fraud == "deny":
            return Outcome.FAILED
        return Outcome.PENDING  # "challenge": wait for the merchant's or Midtrans' decision
    if status in {"pending", "authorize"}:
        return Outcome.PENDING
    if status in _FAILED:
        return _FAILED[status]
    if status in _REFUNDED:
        return Outcome.REFUNDED
    return Outcome.UNKNOWN


# Far above any IDR amount; bounds the exponents Decimal accepts ("1e400000000") before arithmetic.
_AMOUNT_LIMIT = Decimal("1e15")


def _decimal_or_none(value: Any) -> Decimal | None:
    """The amount as a Decimal, or None when it is missing, not a number, or absurdly large."""
    if value is None:
        return None
    try:
        result = Decimal(str(value))
        return result if result.is_finite() and abs(result) < _AMOUNT_LIMIT else None
    except (ArithmeticError, ValueError):
        return None


@dataclass(frozen=True)
class PaymentStatus:
    """A payment's state as the gateway reports it (a notification body or a status API answer)."""

    order_id: str
    transaction_status: str
    gross_amount: str  # exactly as received ("150000.00"): it is signature input
    status_code: str = ""
    fraud_status: str | None = None
    transaction_id: str = ""
    payment_type: str = ""
    currency: str | None = None
    refund_amount: str | None = None
    original_amount: str | None = None  # set when Midtrans' fee imposition added a customer fee
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def outcome(self) -> Outcome:
        return outcome_for(self.transaction_status, self.fraud_status)

    @property
    def gross_amount_value(self) -> Decimal | None:
        return _decimal_or_none(self.gross_amount)

    @property
    def original_amount_value(self) -> Decimal | None:
        return _decimal_or_none(self.original_amount)

    @property
    def refund_amount_value(self) -> Decimal | None:
        return _decimal_or_none(self.refund_amount)

    @classmethod
    def from_midtrans(cls, data: dict) -> "PaymentStatus":
        """Parse leniently: Midtrans omits null fields and adds new ones without notice.

        Raises ``ValueError`` when a field we cannot do without is missing or not a string.
        """
        if not isinstance(data, dict):
            raise ValueError("the body is not an object")
        required = {}
        for name in ("order_id", "transaction_status", "gross_amount"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} is missing or not a string")
            required[name] = value

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        info: Any = data
        for name in ("metadata", "extra_info", "gross_amount_info"):
            info = info.get(name) if isinstance(info, dict) else None
        original = info.get("original_amount") if isinstance(info, dict) else None
        if not isinstance(original, str | int):
            original = None  # a float or an object is no amount we can trust
        return cls(
            **required,
            status_code=text("status_code") or "",
            fraud_status=text("fraud_status"),
            transaction_id=text("transaction_id") or "",
            payment_type=text("payment_type") or "",
            currency=text("currency"),
            refund_amount=text("refund_amount"),
            original_amount=None if original is None else str(original),
            raw=data,
        )


@dataclass(frozen=True)
class Customer:
    name: str
    email: str


@dataclass(frozen=True)
class ChargeRequest:
    """A request to collect ``amount`` IDR (a whole number of rupiah) for ``order_id``."""

    order_id: str
    amount: Decimal
    description: str
    customer: Customer
    expires_at: datetime
    expiry_minutes: int


@dataclass(frozen=True)
class ChargeSession:
    """Where the customer pays: Snap's token and its hosted page (or the simulator's)."""

    token: str
    redirect_url: str


class PaymentGateway(Protocol):
    """What ``billing.services`` needs from a payment provider."""

    name: str

    def create_charge(self, request: ChargeRequest) -> ChargeSession:
        """Start a payment. Raises ``GatewayError`` / ``GatewayUnavailable``."""
        ...

    def get_status(self, order_id: str) -> PaymentStatus | None:
        """The authoritative status, or ``None`` when the gateway has no such transaction yet
        (Snap answers 404 until the customer picks a payment method)."""
        ...

    def cancel(self, order_id: str) -> None:
        """Expire a pending payment so it can no longer be paid; already-final ones are left alone."""
        ...
