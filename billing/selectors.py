"""Reads of the ledger, already scoped to what the caller may see."""

import heapq
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from paas.bulk import any_of
from paas.selectors import get_or_not_found

from .hooks import Renewal, upcoming_renewals
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


def wallet_balances(*, user_ids: Iterable) -> dict:
    """``wallet_balance`` of many users in one query: user id -> balance (zero without a wallet)."""
    ids = set(user_ids)
    found = dict(Wallet.objects.filter(any_of(Wallet, "user", list(ids))).values_list("user_id", "balance"))
    return {user_id: found.get(user_id, ZERO) for user_id in ids}


@dataclass(frozen=True)
class BalanceOverview:
    balance: Decimal
    currency: str
    runway_days: int | None
    runs_out_at: datetime | None


# How far ahead the runway is simulated; a balance lasting longer than this "never" runs out.
RUNWAY_HORIZON = timedelta(days=5 * 365)


def balance_runs_out(*, balance: Decimal, renewals: Iterable[Renewal], now: datetime) -> datetime | None:
    """When the first renewal the balance cannot pay comes due, renewing everything in date
    order from ``balance``; None when nothing renews (or not within ``RUNWAY_HORIZON``).

    A renewal due already counts from now. This is the date the customer's apps stop, which a
    daily average would place too late (a whole period is charged at once).
    """
    pending = [(max(r.due_at, now), r.amount, r.every) for r in renewals if r.amount > 0 and r.every > timedelta(0)]
    if not pending:
        return None
    heapq.heapify(pending)
    left = balance
    while pending:
        due_at, amount, every = heapq.heappop(pending)
        if due_at > now + RUNWAY_HORIZON:
            return None
        if left < amount:
            return due_at
        left -= amount
        heapq.heappush(pending, (due_at + every, amount, every))
    return None


def balance_overview(*, user, now: datetime | None = None) -> BalanceOverview:
    """The balance endpoint's answer: the balance, and when it stops covering the renewals that
    the apps on billing report (``billing.hooks``): ``runway_days`` whole days from now."""
    now = now or timezone.now()
    balance = wallet_balance(user=user)
    runs_out_at = balance_runs_out(balance=balance, renewals=upcoming_renewals(user), now=now)
    days = None if runs_out_at is None else max(0, (runs_out_at - now).days)
    return BalanceOverview(balance=balance, currency="IDR", runway_days=days, runs_out_at=runs_out_at)


@dataclass(frozen=True)
class LedgerTotals:
    """Money moved by completed transactions, each total positive (IDR)."""

    revenue: Decimal  # charged for subscriptions
    topups: Decimal  # credited by customers' payments
    refunds: Decimal  # credited back to customers (refunds of charges, downtime credits)


def ledger_totals(*, since: datetime | None = None, until: datetime | None = None) -> LedgerTotals:
    """What completed transactions moved between ``since`` (included) and ``until`` (excluded), by
    completion time; all time without bounds. One query. A refund that takes a top-up back
    (negative) is not a refund to the customer and is not counted in ``refunds``."""
    completed = Transaction.objects.filter(status=Transaction.Status.COMPLETED)
    if since is not None:
        completed = completed.filter(completed_at__gte=since)
    if until is not None:
        completed = completed.filter(completed_at__lt=until)
    sums = completed.aggregate(
        revenue=Sum("amount", filter=Q(type=Transaction.Type.CHARGE)),
        topups=Sum("amount", filter=Q(type=Transaction.Type.TOPUP)),
        refunds=Sum("amount", filter=Q(type=Transaction.Type.REFUND, amount__gt=0)),
    )
    # Charges are stored negative; the totals read as amounts of money.
    return LedgerTotals(**{key: abs(value or ZERO) for key, value in sums.items()})


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
