"""Reads of the ledger, already scoped to what the caller may see."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from paas.selectors import get_or_not_found

from .models import ZERO, Invoice, Transaction, Wallet


def transaction_list(*, user) -> QuerySet[Transaction]:
    """One user's transactions, newest first."""
    return Transaction.objects.filter(user=user).order_by("-created_at", "-id")


def transaction_list_admin() -> QuerySet[Transaction]:
    """Every customer's transactions with their user, newest first: for operators only."""
    return Transaction.objects.select_related("user").order_by("-created_at", "-id")


def topups_due_for_sync(*, now: datetime, stale_before: datetime, limit: int) -> list[uuid.UUID]:
    """Ids of PENDING top-ups past their deadline or created before ``stale_before``, oldest first."""
    return list(
        Transaction.objects.filter(type=Transaction.Type.TOPUP, status=Transaction.Status.PENDING)
        .filter(Q(expires_at__lte=now) | Q(created_at__lte=stale_before))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )


def transaction_get_for_user(*, user, transaction_id) -> Transaction:
    return get_or_not_found(Transaction.objects.filter(user=user), pk=transaction_id)


def transaction_get(*, transaction_id) -> Transaction:
    return get_or_not_found(Transaction.objects.select_related("user"), pk=transaction_id)


def invoice_list(*, user) -> QuerySet[Invoice]:
    return Invoice.objects.filter(user=user).select_related("transaction").order_by("-issued_at", "-sequence")


def invoice_get_for_user(*, user, invoice_id) -> Invoice:
    return get_or_not_found(Invoice.objects.select_related("transaction").filter(user=user), pk=invoice_id)


def wallet_balance(*, user) -> Decimal:
    balance = Wallet.objects.filter(user=user).values_list("balance", flat=True).first()
    return ZERO if balance is None else balance


@dataclass(frozen=True)
class BalanceOverview:
    balance: Decimal
    currency: str
    runway_days: int | None
    runs_out_at: datetime | None


def balance_runway(
    *, balance: Decimal, daily_cost: Decimal | None, now: datetime | None = None
) -> tuple[int | None, datetime | None]:
    """How many whole days the balance pays for at ``daily_cost``, and when it runs out.

    ``(None, None)`` when nothing renews (no cost); 0 days and "now" when the balance is spent.
    """
    if not daily_cost or daily_cost <= 0:
        return None, None
    now = now or timezone.now()
    if balance <= 0:
        return 0, now
    days = balance / daily_cost
    # Whole seconds in Decimal: no float anywhere near a money computation.
    seconds = int((days * 86400).to_integral_value(rounding=ROUND_FLOOR))
    return int(days.to_integral_value(rounding=ROUND_FLOOR)), now + timedelta(seconds=seconds)


def balance_overview(*, user, daily_cost: Decimal | None = None) -> BalanceOverview:
    """The balance endpoint's answer. ``daily_cost`` is what the user's renewing subscriptions
    cost per day; the subscriptions app supplies it (None while nothing renews)."""
    balance = wallet_balance(user=user)
    days, runs_out_at = balance_runway(balance=balance, daily_cost=daily_cost)
    return BalanceOverview(balance=balance, currency="IDR", runway_days=days, runs_out_at=runs_out_at)


def billing_summary() -> dict:
    """Totals for operators: balances, debt, and completed movements per type (two queries)."""
    wallets = Wallet.objects.aggregate(
        total_balance=Sum("balance"),
        wallets=Count("id"),
        in_debt=Count("id", filter=Q(balance__lt=0)),
        total_debt=Sum("balance", filter=Q(balance__lt=0)),
    )
    per_type = {}
    completed = Q(status=Transaction.Status.COMPLETED)
    rows = (
        Transaction.objects.order_by()
        .values("type")
        .annotate(
            completed_count=Count("id", filter=completed),
            completed_amount=Sum("amount", filter=completed),
            pending_count=Count("id", filter=Q(status=Transaction.Status.PENDING)),
            failed_count=Count("id", filter=~completed & ~Q(status=Transaction.Status.PENDING)),
        )
    )
    for row in rows:
        per_type[row["type"]] = row
    by_type = {}
    for type_ in Transaction.Type.values:
        row = per_type.get(type_, {})
        by_type[type_] = {
            "completed_count": row.get("completed_count", 0),
            "completed_amount": f"{row.get('completed_amount') or ZERO:.2f}",
            "pending_count": row.get("pending_count", 0),
            "unsuccessful_count": row.get("failed_count", 0),
        }
    return {
        "currency": "IDR",
        "total_balance": f"{wallets['total_balance'] or ZERO:.2f}",
        "wallets": wallets["wallets"],
        "wallets_in_debt": wallets["in_debt"],
        "total_debt": f"{-(wallets['total_debt'] or ZERO):.2f}",
        "transactions": by_type,
    }


def simulator_topup_get(*, order_id: str) -> Transaction:
    """A top-up that the payment simulator may settle, by its order id, or ``NotFound``."""
    return get_or_not_found(
        Transaction.objects.filter(type=Transaction.Type.TOPUP, gateway="simulator"), order_id=order_id
    )
