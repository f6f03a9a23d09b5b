from decimal import Decimal

from rest_framework import serializers

from billing.models import Invoice, Transaction
from billing.services import TOPUP_MAX, TOPUP_MIN


class TransactionSerializer(serializers.ModelSerializer):
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


class TopupCreateInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=TOPUP_MIN, max_value=TOPUP_MAX, coerce_to_string=True
    )

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


class AdjustmentInputSerializer(serializers.Serializer):
    user = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, max_value=TOPUP_MAX, min_value=-TOPUP_MAX)
    reason = serializers.CharField(max_length=255, allow_blank=False, trim_whitespace=True)

    def validate_amount(self, value: Decimal) -> Decimal:
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class RefundInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SummarySerializer(serializers.Serializer):
    currency = serializers.CharField()
    total_balance = serializers.CharField()
    wallets = serializers.IntegerField()
    wallets_in_debt = serializers.IntegerField()
    total_debt = serializers.CharField()
    transactions = serializers.DictField()
