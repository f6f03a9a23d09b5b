"""The credit ledger: wallets, money movements, invoices and the gateway's notifications.

Only ``billing.services`` writes to these tables. A completed ``Transaction`` is never changed or
deleted (a PostgreSQL trigger refuses it, see migration 0002); corrections are new rows.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from paas.models import TimeStampedModel

ZERO = Decimal("0.00")


class Wallet(TimeStampedModel):
    """One customer's credit balance in IDR, the running total of their completed transactions.

    The balance is never below zero, with one exception (the debt policy): a payment the gateway
    takes back after we credited it (reversal, refund, chargeback) is clawed back even when the
    credit was already spent. ``debt_since`` records when that happened; while the balance is
    negative every charge is refused, so renewals stop until the customer tops up.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    debt_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(debt_since__isnull=False),
                name="billing_wallet_balance_not_negative_unless_debt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance} IDR"


class Transaction(TimeStampedModel):
    """One money movement on a customer's wallet: the append-only ledger.

    ``amount`` is signed (credit +, debit -). Only COMPLETED rows count towards the balance, and
    each carries ``balance_after``. A TOPUP starts PENDING while the customer pays at the gateway;
    the other types are written COMPLETED at once, in the same database transaction as the new
    wallet balance. A REFUND reverses (part of) ``related``: negative for a top-up (money leaves the
    wallet: an operator refund, or the gateway's reversal, refund or chargeback), positive for a
    charge (credit back to the wallet).
    """

    class Type(models.TextChoices):
        TOPUP = "TOPUP", "Top-up"
        CHARGE = "CHARGE", "Charge"
        REFUND = "REFUND", "Refund"
        ADJUSTMENT = "ADJUSTMENT", "Adjustment"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        COMPLETED = "COMPLETED", "Completed"
        FAILED = "FAILED", "Failed"
        EXPIRED = "EXPIRED", "Expired"
        CANCELLED = "CANCELLED", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transactions")
    type = models.CharField(max_length=16, choices=Type.choices, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Gateway payments (top-ups).
    order_id = models.CharField(max_length=50, null=True, blank=True, unique=True)
    gateway = models.CharField(max_length=16, blank=True)
    gateway_transaction_id = models.CharField(max_length=64, blank=True)
    gateway_status = models.CharField(max_length=32, blank=True, help_text="Last transaction_status we acted on.")
    payment_type = models.CharField(max_length=32, blank=True)
    payment_token = models.CharField(max_length=255, blank=True)
    redirect_url = models.URLField(max_length=500, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    gateway_payload = models.JSONField(default=dict, blank=True, help_text="Last verified gateway status.")
    failure_reason = models.CharField(max_length=255, blank=True)

    # Links: a future subscriptions app passes its id; refunds point at what they reverse.
    subscription_id = models.UUIDField(null=True, blank=True, db_index=True)
    related = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals")
    # Who made an operator movement (adjustment, refund); null for customer and gateway flows.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A caller's key that makes a service call safe to repeat (e.g. a renewal charge per period).
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (unique when set)
    # A natural key for movements the system derives from an event, so an event repeated under
    # concurrency posts once (e.g. "clawback:<order_id>").
    reference = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="billing_tx_user_created")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_tx_amount_not_zero"),
            models.CheckConstraint(condition=~Q(type="TOPUP") | Q(amount__gt=0), name="billing_tx_topup_positive"),
            models.CheckConstraint(condition=~Q(type="CHARGE") | Q(amount__lt=0), name="billing_tx_charge_negative"),
            models.CheckConstraint(
                condition=~Q(status="COMPLETED") | Q(balance_after__isnull=False, completed_at__isnull=False),
                name="billing_tx_completed_has_balance",
            ),
            models.CheckConstraint(
                condition=Q(type="TOPUP") | Q(status="COMPLETED"), name="billing_tx_only_topups_pending"
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="billing_tx_user_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} ({self.status})"


class InvoiceSequence(models.Model):
    """The last invoice number issued in a year; its row lock keeps numbering gap-free.

    On PostgreSQL only the trigger of migration 0004 takes numbers from it, at commit.
    """

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Invoice(TimeStampedModel):
    """The invoice for one completed top-up or charge, frozen at issue time.

    Customer, seller and lines are copied in so that later profile or settings changes never alter
    an issued invoice. Numbers are ``INV-YYYY-NNNNNN``, gap-free per year. On PostgreSQL an invoice
    is numbered by a deferred trigger while its transaction commits (migration 0004), so within
    that transaction ``number`` and ``sequence`` are still empty; every committed invoice has both.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices")
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="invoice")
    issued_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="IDR")
    customer_name = models.CharField(max_length=150)
    customer_email = models.EmailField(max_length=254)
    seller = models.JSONField(default=dict)
    lines = models.JSONField(default=list)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    payment_reference = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-issued_at", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="billing_invoice_year_sequence_unique"),
            models.CheckConstraint(condition=Q(total__gt=0), name="billing_invoice_total_positive"),
            models.CheckConstraint(
                condition=Q(number__isnull=True, sequence__isnull=True)
                | Q(number__isnull=False, sequence__isnull=False),
                name="billing_invoice_numbered_whole",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Invoice {self.pk} (numbered at commit)"


class PaymentNotification(models.Model):
    """One signature-valid notification as the gateway sent it, kept for audit and disputes.

    Every delivery is stored, duplicates included; ``outcome`` says what processing made of it.
    """

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        CREDITED = "credited", "Credited"
        PENDING = "pending", "Still pending"
        FAILED = "failed", "Marked failed"
        CLAWED_BACK = "clawed_back", "Clawed back"
        NO_CHANGE = "no_change", "No change (duplicate or out of order)"
        UNKNOWN_ORDER = "unknown_order", "Unknown order"
        AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
        NOT_AT_GATEWAY = "not_at_gateway", "Not found at the gateway"
        GATEWAY_UNAVAILABLE = "gateway_unavailable", "Status API unavailable"

    id = models.BigAutoField(primary_key=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    order_id = models.CharField(max_length=64, db_index=True)
    transaction_status = models.CharField(max_length=32)
    status_code = models.CharField(max_length=8)
    fraud_status = models.CharField(max_length=16, blank=True)
    gross_amount = models.CharField(max_length=32)
    verified_status = models.CharField(max_length=32, blank=True, help_text="Status the status API confirmed.")
    body = models.JSONField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, default=Outcome.RECEIVED)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.transaction_status} -> {self.outcome}"
