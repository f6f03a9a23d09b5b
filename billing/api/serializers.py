import json
import re
from decimal import Decimal

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.exceptions import InvalidNotification
from billing.models import Invoice, Transaction
from billing.services import TOPUP_MAX, TOPUP_MIN
from paas.api.serializers import OutputModelSerializer, StrictInputSerializer

# At most 12 integer digits (the ledger's 14 digits minus 2 decimals), at most 2 decimals, ASCII only.
_AMOUNT_RE = re.compile(r"-?[0-9]{1,12}(?:\.[0-9]{1,2})?", re.ASCII)
# A Midtrans notification is about 1-2 KB; anything far larger is not one, and would bloat the audit table.
NOTIFICATION_MAX_BYTES = 64 * 1024


def _storable(value) -> bool:
    """False when a string holds what PostgreSQL cannot store (NUL, lone surrogates), at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def notification_body(request) -> dict:
    """The notification as the JSON object Midtrans sent, or ``InvalidNotification`` (400).

    Parsed here rather than by a serializer so ``gross_amount`` reaches the signature check exactly
    as sent ("150000.00"). Refuses what JSON allows but the audit table (jsonb) cannot hold:
    NaN, Infinity, overflowing numbers, NUL characters and lone surrogates.
    """
    try:
        raw = request.body
    except RequestDataTooBig:
        raise InvalidNotification("The notification body is too large.") from None
    if len(raw) > NOTIFICATION_MAX_BYTES:
        raise InvalidNotification("The notification body is too large.")
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidNotification("The notification body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidNotification("The notification body must be a JSON object.")
    if not _storable(payload):
        raise InvalidNotification("The notification body contains characters that cannot be stored.")
    return payload


@extend_schema_field({"type": "string", "format": "decimal", "pattern": _AMOUNT_RE.pattern, "example": "150000.00"})
class MoneyField(serializers.Field):
    """An IDR amount: a string with at most two decimals ("150000.00") or a JSON integer.

    Stricter than ``DecimalField`` on purpose: it refuses JSON floats (binary fractions), exponents
    ("1e5"), NaN and Infinity, and the signs, spaces, underscores and non-ASCII digits that
    ``Decimal()`` would quietly accept. Answers as a string with two decimals.
    """

    default_error_messages = {
        "invalid": 'Send the amount as a string with at most two decimals, e.g. "150000.00".',
        "min_value": "Ensure this value is greater than or equal to {limit}.",
        "max_value": "Ensure this value is less than or equal to {limit}.",
    }

    def __init__(self, *, min_value: Decimal, max_value: Decimal, **kwargs):
        self.min_value = min_value
        self.max_value = max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        text = str(data)
        if not _AMOUNT_RE.fullmatch(text):
            self.fail("invalid")
        amount = Decimal(text).quantize(Decimal("0.01"))
        if amount < self.min_value:
            self.fail("min_value", limit=f"{self.min_value:.2f}")
        if amount > self.max_value:
            self.fail("max_value", limit=f"{self.max_value:.2f}")
        return amount

    def to_representation(self, value) -> str:
        return f"{value:.2f}"


class TransactionSerializer(OutputModelSerializer):
    subscription = serializers.UUIDField(source="subscription_id", read_only=True, allow_null=True)

    class Meta:
        model = Transaction
        fields = [
            "id",
            "type",
            "status",
            "amount",
            "balance_after",
            "description",
            "order_id",
            "subscription",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class AdminTransactionSerializer(TransactionSerializer):
    user = serializers.UUIDField(source="user_id", read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)
    related = serializers.UUIDField(source="related_id", read_only=True, allow_null=True)

    class Meta(TransactionSerializer.Meta):
        fields = [
            *TransactionSerializer.Meta.fields,
            "user",
            "user_email",
            "actor",
            "related",
            "gateway",
            "gateway_status",
            "payment_type",
            "failure_reason",
        ]
        read_only_fields = fields


class PaymentSessionSerializer(serializers.Serializer):
    token = serializers.CharField(source="payment_token")
    redirect_url = serializers.CharField()


class TopupSerializer(serializers.ModelSerializer):
    payment = PaymentSessionSerializer(source="*")

    class Meta:
        model = Transaction
        fields = ["id", "order_id", "amount", "status", "payment", "expires_at"]
        read_only_fields = fields


class TopupCreateInputSerializer(StrictInputSerializer):
    amount = MoneyField(min_value=TOPUP_MIN, max_value=TOPUP_MAX)

    def validate_amount(self, value: Decimal) -> Decimal:
        if value != value.to_integral_value():
            raise serializers.ValidationError("Must be a whole number of rupiah (IDR has no smaller unit).")
        return value


class BalanceSerializer(serializers.Serializer):
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    runway_days = serializers.IntegerField(allow_null=True)
    runs_out_at = serializers.DateTimeField(allow_null=True)


class InvoiceSerializer(serializers.ModelSerializer):
    # Empty only inside the transaction that issues it (numbered at commit): never null to clients.
    number = serializers.CharField(read_only=True)
    customer = serializers.SerializerMethodField()
    transaction = serializers.UUIDField(source="transaction_id", read_only=True)
    type = serializers.CharField(source="transaction.type", read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "issued_at",
            "currency",
            "customer",
            "seller",
            "lines",
            "total",
            "payment_reference",
            "transaction",
            "type",
        ]
        read_only_fields = fields

    def get_customer(self, obj) -> dict:
        return {"name": obj.customer_name, "email": obj.customer_email}


class AdjustmentInputSerializer(StrictInputSerializer):
    user = serializers.UUIDField()
    amount = MoneyField(min_value=-TOPUP_MAX, max_value=TOPUP_MAX)
    reason = serializers.CharField(max_length=255, allow_blank=False, trim_whitespace=True)

    def validate_amount(self, value: Decimal) -> Decimal:
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class RefundInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SummarySerializer(serializers.Serializer):
    currency = serializers.CharField()
    total_balance = serializers.CharField()
    wallets = serializers.IntegerField()
    wallets_in_debt = serializers.IntegerField()
    total_debt = serializers.CharField()
    transactions = serializers.DictField()
