"""The ledger core: locking a wallet, posting a completed row, charges, refunds, adjustments."""

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction as db_transaction
from django.db.models import Sum
from django.utils import timezone

from billing import hooks
from billing.exceptions import AlreadyRefunded, InsufficientBalance, NotRefundable
from billing.models import ZERO, Transaction, Wallet
from paas.bulk import any_of, insert_rows, select_matching, update_rows
from paas.exceptions import IdempotencyKeyMismatch

from .invoices import ChargeRow, invoice_issue, invoice_issue_rows

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")

Status = Transaction.Status
Type = Transaction.Type


# --- helpers ------------------------------------------------------------------------------------


MONEY_LIMIT = Decimal("1000000000000")  # the ledger's columns hold 12 integer digits


def _money(value: Any) -> Decimal:
    """A Decimal with two places.

    Refuses floats (binary fractions cannot represent money exactly) and more than two decimals:
    how to round a computed amount (pro rata, fees) is the caller's decision, never a silent one here.
    """
    if isinstance(value, float):
        raise TypeError("Money must be a Decimal or a string, never a float.")
    try:
        amount = Decimal(str(value))
        exact = amount.is_finite() and abs(amount) < MONEY_LIMIT and amount == amount.quantize(CENT)
    except ArithmeticError:  # InvalidOperation, and Overflow for exponents past the context's range
        exact = False
    if not exact:
        raise ValueError(f"Not an amount with at most two decimals: {str(value)[:40]!r}")
    return amount.quantize(CENT)


def _positive(value: Any) -> Decimal:
    amount = _money(value)
    if amount <= 0:
        raise ValueError("The amount must be positive.")
    return amount


def _uuid_or_none(value) -> uuid.UUID | None:
    return None if value in (None, "") else uuid.UUID(str(value))


def _wallet_lock(user_id) -> Wallet:
    """The user's wallet, created if missing, locked until the surrounding transaction ends."""
    wallet = Wallet.objects.select_for_update().filter(user_id=user_id).first()
    if wallet is None:
        # ON CONFLICT DO NOTHING: a concurrent first movement may be creating it right now.
        Wallet.objects.bulk_create([Wallet(user_id=user_id)], ignore_conflicts=True)
        wallet = Wallet.objects.select_for_update().get(user_id=user_id)
    return wallet


def _wallet_set_balance(wallet: Wallet, balance: Decimal, now) -> None:
    wallet.balance = balance
    if balance < 0:
        wallet.debt_since = wallet.debt_since or now
    else:
        wallet.debt_since = None
    wallet.save(update_fields=["balance", "debt_since", "updated_at"])


def _post(
    *, wallet: Wallet, type: str, amount: Decimal, description: str, allow_debt: bool = False, **fields
) -> Transaction:
    """Write one COMPLETED ledger row and the wallet's new balance. The wallet must be locked."""
    new_balance = wallet.balance + amount
    if amount < 0 and new_balance < 0 and not allow_debt:
        raise InsufficientBalance(extra={"balance": f"{wallet.balance:.2f}", "required": f"{-amount:.2f}"})
    now = timezone.now()
    row = Transaction(
        user_id=wallet.user_id,
        type=type,
        status=Status.COMPLETED,
        amount=amount,
        balance_after=new_balance,
        completed_at=now,
        description=description[:255],
        **fields,
    )
    row.save(force_insert=True)
    _wallet_set_balance(wallet, new_balance, now)
    return row


def _reversed_total(original: Transaction) -> Decimal:
    """How much of ``original`` earlier REFUND rows already reversed (a positive number)."""
    total = original.reversals.filter(type=Type.REFUND, status=Status.COMPLETED).aggregate(s=Sum("amount"))["s"]
    return abs(total or ZERO)


# --- wallet: the public API other apps call ---------------------------------------------------


def _idempotent_replay(*, user, idempotency_key: str | None, check: Callable[[Transaction], bool]):
    if not idempotency_key:
        return None
    existing = Transaction.objects.filter(user=user, idempotency_key=idempotency_key).first()
    if existing is not None and not check(existing):
        raise IdempotencyKeyMismatch()
    return existing


@db_transaction.atomic
def wallet_charge(
    *, user, amount: Decimal, description: str, subscription_id=None, idempotency_key: str | None = None
) -> Transaction:
    """Debit ``amount`` (positive) from the wallet as a CHARGE and issue its invoice.

    Raises ``InsufficientBalance`` (402) when the balance does not cover it. With an
    ``idempotency_key``, a repeated call returns the first charge instead of charging again
    (a different amount or subscription under the same key raises ``IdempotencyKeyMismatch``).
    Call it inside your own ``transaction.atomic()`` to make the charge and your rows one unit.
    """
    amount = _positive(amount)
    subscription_id = _uuid_or_none(subscription_id)
    wallet = _wallet_lock(user.pk)
    existing = _idempotent_replay(
        user=user,
        idempotency_key=idempotency_key,
        check=lambda t: t.type == Type.CHARGE and t.amount == -amount and t.subscription_id == subscription_id,
    )
    if existing is not None:
        return existing
    charge = _post(
        wallet=wallet,
        type=Type.CHARGE,
        amount=-amount,
        description=description,
        subscription_id=subscription_id,
        idempotency_key=idempotency_key,
    )
    invoice_issue(transaction=charge, user=user)
    return charge


@dataclass(frozen=True)
class Charge:
    """One charge of ``wallet_charge_many``: what ``wallet_charge`` takes, for one user."""

    user_id: uuid.UUID
    amount: Decimal
    description: str
    idempotency_key: str
    subscription_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Charged:
    """A charge ``wallet_charge_many`` made, or found made already under its key (``replayed``)."""

    transaction_id: uuid.UUID
    amount: Decimal  # what was taken, positive
    replayed: bool = False


def wallets_lock(user_ids) -> dict:
    """Lock the wallets of ``user_ids`` until the transaction ends, in user id order (the order
    every batch takes them in, so two batches never wait on each other in a circle); returns
    user id -> balance. A batch that may later credit some of these wallets one at a time locks
    them all here first, so those later locks are already held."""
    return dict(
        Wallet.objects.select_for_update()
        .filter(any_of(Wallet, "user", list(user_ids)))
        .order_by("user_id")
        .values_list("user_id", "balance")
    )


@db_transaction.atomic
def wallet_charge_many(charges: Sequence[Charge]) -> list[Charged | None]:
    """Many charges in one database transaction (the billing clock's renewals), each made in full
    or refused, with the rules of ``wallet_charge``, in a constant number of queries.

    Returns, in order, ``Charged`` (the earlier charge when its idempotency key was used
    already), or None when the wallet does not cover it (or is in debt). Wallets are locked in
    user id order (two batches never deadlock) until the commit; every new balance is written
    with its ledger row in this transaction; the invoices are numbered in one go at commit.
    """
    if not charges:
        return []
    amounts = [_positive(c.amount) for c in charges]
    user_ids = {c.user_id for c in charges}
    balances = wallets_lock(user_ids)
    earlier_charges = select_matching(
        Transaction,
        {"user_id": [c.user_id for c in charges], "idempotency_key": [c.idempotency_key for c in charges]},
        ["user_id", "idempotency_key", "id", "type", "amount", "subscription_id"],
    )
    seen = {(user_id, key): rest for user_id, key, *rest in earlier_charges}
    now = timezone.now()
    results: list[Charged | None] = []
    rows: dict[str, list] = {
        "id": [],
        "user_id": [],
        "amount": [],
        "balance_after": [],
        "description": [],
        "subscription_id": [],
        "idempotency_key": [],
    }
    invoices: list[ChargeRow] = []
    for charge, amount in zip(charges, amounts, strict=True):
        subscription_id = _uuid_or_none(charge.subscription_id)
        earlier = seen.get((charge.user_id, charge.idempotency_key))
        if earlier is not None:
            pk, type_, earlier_amount, earlier_subscription = earlier
            if type_ != Type.CHARGE or earlier_amount != -amount or earlier_subscription != subscription_id:
                raise IdempotencyKeyMismatch()
            results.append(Charged(transaction_id=pk, amount=amount, replayed=True))
            continue
        balance = balances.get(charge.user_id)
        if balance is None or balance < amount:
            results.append(None)
            continue
        balances[charge.user_id] = balance = balance - amount
        pk = uuid.uuid4()
        description = charge.description[:255]
        for column, value in (
            ("id", pk),
            ("user_id", charge.user_id),
            ("amount", -amount),
            ("balance_after", balance),
            ("description", description),
            ("subscription_id", subscription_id),
            ("idempotency_key", charge.idempotency_key),
        ):
            rows[column].append(value)
        seen[(charge.user_id, charge.idempotency_key)] = (pk, Type.CHARGE, -amount, subscription_id)
        invoices.append(ChargeRow(pk, charge.user_id, amount, description, now))
        results.append(Charged(transaction_id=pk, amount=amount))
    if invoices:
        insert_rows(Transaction, rows, type=Type.CHARGE, status=Status.COMPLETED, completed_at=now)
        charged = list({*rows["user_id"]})
        update_rows(Wallet, "user_id", {"user_id": charged, "balance": [balances[u] for u in charged]}, updated_at=now)
        invoice_issue_rows(invoices)
    return results


@db_transaction.atomic
def wallet_refund(
    *,
    user,
    description: str,
    amount: Decimal | None = None,
    original: Transaction | None = None,
    subscription_id=None,
    idempotency_key: str | None = None,
    actor=None,
) -> Transaction:
    """Reverse (part of) a completed charge or top-up with a REFUND row.

    - ``original`` a CHARGE: credits the wallet (e.g. the unused part of a subscription period).
    - ``original`` a TOPUP: debits the wallet; the money goes back to the customer outside the
      wallet (see docs/billing.md). Refused with 402 when the credit was already spent.
    - no ``original``: a plain credit of ``amount`` (e.g. a goodwill refund for a subscription).
    ``amount`` defaults to what is left to refund; the total refunded never exceeds the original
    (``AlreadyRefunded`` when nothing is left).
    """
    subscription_id = _uuid_or_none(subscription_id)
    amount = None if amount is None else _positive(amount)
    original_id = None if original is None else original.pk
    wallet = _wallet_lock(user.pk)
    # Replay before the refundable check: repeating a full refund must return it, not 409.
    existing = _idempotent_replay(
        user=user,
        idempotency_key=idempotency_key,
        check=lambda t: (
            t.type == Type.REFUND and t.related_id == original_id and (amount is None or abs(t.amount) == amount)
        ),
    )
    if existing is not None:
        return existing
    sign = Decimal(1)
    if original is not None:
        original = Transaction.objects.select_for_update().get(pk=original_id)
        if (
            original.user_id != user.pk
            or original.status != Status.COMPLETED
            or original.type not in (Type.CHARGE, Type.TOPUP)
        ):
            raise NotRefundable()
        refundable = abs(original.amount) - _reversed_total(original)
        if refundable <= 0:
            raise AlreadyRefunded()
        amount = refundable if amount is None else amount
        if amount > refundable:
            raise NotRefundable(
                f"At most {refundable:.2f} is left to refund.", extra={"refundable": f"{refundable:.2f}"}
            )
        sign = Decimal(-1) if original.amount > 0 else Decimal(1)
        subscription_id = subscription_id or original.subscription_id
    elif amount is None:
        raise ValueError("A refund without an original transaction needs an amount.")
    return _post(
        wallet=wallet,
        type=Type.REFUND,
        amount=sign * amount,
        description=description,
        related=original,
        subscription_id=subscription_id,
        idempotency_key=idempotency_key,
        actor=actor,
    )


@db_transaction.atomic
def wallet_adjust(*, actor, user, amount: Decimal, reason: str) -> Transaction:
    """An operator's signed correction (ADJUSTMENT), audited with ``actor`` and ``reason``.

    A negative adjustment cannot take the balance below zero (402); a positive one may pay off debt.
    """
    amount = _money(amount)
    if amount == 0:
        raise ValueError("An adjustment must not be zero.")
    if not reason.strip():
        raise ValueError("An adjustment needs a reason.")
    wallet = _wallet_lock(user.pk)
    adjustment = _post(wallet=wallet, type=Type.ADJUSTMENT, amount=amount, description=reason.strip(), actor=actor)
    if amount > 0:
        hooks.balance_credited.send(hooks.BalanceCredited(user_id=user.pk))
    return adjustment


def transaction_refund_by_admin(*, actor, transaction: Transaction, reason: str = "") -> Transaction:
    """Refund what is left of a completed top-up or charge, once (a second call is 409).

    A subscription's charge is not refunded here: the subscription credits its unused time itself
    (cancelling with a refund, downgrades, downtime), and the two together would pay the same
    period back twice. Operators cancel it with a refund, or adjust the wallet with a reason."""
    if transaction.type == Type.CHARGE and transaction.subscription_id is not None:
        raise NotRefundable(
            "A subscription's charge is refunded through the subscription: cancel it with a refund, "
            "or adjust the wallet with a reason."
        )
    kind = "top-up" if transaction.type == Type.TOPUP else "charge"
    label = transaction.order_id or str(transaction.pk)
    description = f"Refund of {kind} {label}" + (f": {reason.strip()}" if reason.strip() else "")
    return wallet_refund(user=transaction.user, original=transaction, description=description, actor=actor)
