"""Every write to the ledger: the only code that moves money.

Rules every function here keeps:
- A balance changes only while its wallet row is locked (``select_for_update``), in the same
  database transaction as the ledger row that explains it. Locks are always taken in the order
  wallet -> transaction row -> invoice sequence, so two flows never deadlock (the invoice
  sequence is taken last of all, while the transaction commits: see ``invoices``).
- A debit never takes the balance below zero (``InsufficientBalance``), except a clawback of a
  payment the gateway took back (see the debt policy on ``Wallet``).
- Completed ledger rows are never edited; corrections are new rows.
- Each gateway-driven function is idempotent: it looks at the current state under the lock and
  applies only forward transitions, so duplicates, retries and out-of-order notifications are safe.
- No database transaction is held open across a call to the payment gateway.
"""

from .invoices import invoice_issue
from .ledger import (
    Charge,
    Charged,
    transaction_refund_by_admin,
    wallet_adjust,
    wallet_charge,
    wallet_charge_many,
    wallet_refund,
    wallets_lock,
)
from .topups import (
    TOPUP_MAX,
    TOPUP_MIN,
    notification_receive,
    topup_apply_status,
    topup_create,
    topup_simulate_payment,
    topup_sync,
)

__all__ = [
    "TOPUP_MAX",
    "TOPUP_MIN",
    "Charge",
    "Charged",
    "invoice_issue",
    "notification_receive",
    "topup_apply_status",
    "topup_create",
    "topup_simulate_payment",
    "topup_sync",
    "transaction_refund_by_admin",
    "wallet_adjust",
    "wallet_charge",
    "wallet_charge_many",
    "wallet_refund",
    "wallets_lock",
]
