"""Top-ups through the payment gateway, and the gateway's notifications: the forward-only
state machine that credits each paid top-up exactly once."""

import logging
import secrets
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from billing import hooks
from billing.exceptions import (
    AmountMismatch,
    InvalidNotification,
    InvalidSignature,
    PaymentGatewayError,
    PaymentGatewayUnavailable,
    UnknownOrder,
)
from billing.gateways import ChargeRequest, Customer, GatewayError, Outcome, PaymentStatus, get_payment_gateway
from billing.gateways.signature import verify_signature
from billing.models import PaymentNotification, Transaction, Wallet
from notifications.services import emit_on_commit

from .invoices import invoice_issue
from .ledger import (
    CENT,
    Status,
    Type,
    _money,
    _post,
    _reversed_total,
    _wallet_lock,
    _wallet_set_balance,
)

logger = logging.getLogger(__name__)

TOPUP_MIN = Decimal("10000.00")
TOPUP_MAX = Decimal("100000000.00")
TOPUP_DESCRIPTION = "Account credit top-up"

NoteOutcome = PaymentNotification.Outcome


# --- top-ups ----------------------------------------------------------------------------------


def _new_order_id(now) -> str:
    # Midtrans: at most 50 of [A-Za-z0-9-_~.], never reused. Random, not a sequence, so a
    # restored database can never mint an order id Midtrans has already seen.
    return f"topup-{now:%Y%m%d}-{secrets.token_hex(8)}"


def _topup_amount(amount: Decimal) -> Decimal:
    amount = _money(amount)
    if amount < TOPUP_MIN or amount > TOPUP_MAX:
        raise ValueError(f"The amount must be between {TOPUP_MIN} and {TOPUP_MAX}.")
    if amount != amount.to_integral_value():
        raise ValueError("The amount must be a whole number of rupiah (IDR has no smaller unit).")
    return amount


def topup_create(*, user, amount: Decimal) -> Transaction:
    """Start a top-up: a PENDING TOPUP row and a payment session at the gateway.

    The row is committed before the gateway is called, so no transaction spans the HTTP call and a
    crash in between leaves a row the reconcile job settles. A gateway error marks the top-up FAILED
    and raises ``PaymentGatewayError`` (502).
    """
    amount = _topup_amount(amount)
    try:
        gateway = get_payment_gateway()
    except GatewayError as exc:
        raise PaymentGatewayError() from exc
    now = timezone.now()
    minutes = settings.TOPUP_EXPIRY_MINUTES
    topup = Transaction.objects.create(
        user=user,
        type=Type.TOPUP,
        status=Status.PENDING,
        amount=amount,
        description=TOPUP_DESCRIPTION,
        order_id=_new_order_id(now),
        gateway=gateway.name,
        expires_at=now + timedelta(minutes=minutes),
    )
    request = ChargeRequest(
        order_id=topup.order_id,
        amount=amount,
        description=TOPUP_DESCRIPTION,
        customer=Customer(name=user.name or user.email, email=user.email),
        expires_at=topup.expires_at,
        expiry_minutes=minutes,
    )
    try:
        session = gateway.create_charge(request)
    except GatewayError as exc:
        Transaction.objects.filter(pk=topup.pk, status=Status.PENDING).update(
            status=Status.FAILED, failure_reason=str(exc)[:255], updated_at=timezone.now()
        )
        logger.warning("Top-up %s failed at the gateway: %s", topup.order_id, exc)
        raise PaymentGatewayError() from exc
    topup.payment_token = session.token
    topup.redirect_url = session.redirect_url
    topup.save(update_fields=["payment_token", "redirect_url", "updated_at"])
    return topup


def _amount_matches(topup: Transaction, status: PaymentStatus) -> bool:
    if status.currency not in (None, "IDR"):
        return False
    gross = status.gross_amount_value
    if gross == topup.amount:
        return True
    # Midtrans' fee imposition adds the customer's fee to gross_amount and keeps ours as the
    # original amount: accept it, and credit only our stored amount.
    return gross is not None and gross >= topup.amount and status.original_amount_value == topup.amount


def _record_gateway(topup: Transaction, status: PaymentStatus, fields: list[str]) -> None:
    topup.gateway_status = status.transaction_status[:32]
    topup.gateway_transaction_id = status.transaction_id[:64] or topup.gateway_transaction_id
    topup.payment_type = status.payment_type[:32] or topup.payment_type
    topup.gateway_payload = {k: v for k, v in status.raw.items() if k != "signature_key"}
    topup.save(
        update_fields=[
            *fields,
            "gateway_status",
            "gateway_transaction_id",
            "payment_type",
            "gateway_payload",
            "updated_at",
        ]
    )


def _payment_payload(topup: Transaction, balance: Decimal | None = None) -> dict:
    """The ``payment.*`` event payload: flat keys for webhook consumers, and the transaction as
    the API shows it for the email templates. Nothing secret."""
    amount = f"{topup.amount:.2f}"
    payload = {
        "transaction_id": str(topup.pk),
        "order_id": topup.order_id,
        "amount": amount,
        "transaction": {
            "id": str(topup.pk),
            "type": topup.type,
            "status": topup.status,
            "amount": amount,
            "order_id": topup.order_id,
            "completed_at": topup.completed_at.isoformat() if topup.completed_at else None,
        },
    }
    if balance is not None:
        payload["balance"] = f"{balance:.2f}"
    return payload


def _topup_complete(wallet: Wallet, topup: Transaction, status: PaymentStatus) -> None:
    now = timezone.now()
    new_balance = wallet.balance + topup.amount
    topup.status = Status.COMPLETED
    topup.balance_after = new_balance
    topup.completed_at = now
    topup.failure_reason = ""
    _record_gateway(topup, status, ["status", "balance_after", "completed_at", "failure_reason"])
    _wallet_set_balance(wallet, new_balance, now)
    invoice_issue(transaction=topup)
    emit_on_commit("payment.succeeded", user=topup.user, payload=_payment_payload(topup, new_balance))
    hooks.balance_credited.send(hooks.BalanceCredited(user_id=topup.user_id))


_FAILED_STATUS = {Outcome.FAILED: Status.FAILED, Outcome.EXPIRED: Status.EXPIRED, Outcome.CANCELLED: Status.CANCELLED}
# After a credit, only these mean the money is gone again (settlement -> deny is the documented
# reversal; a captured card can still be cancelled).
_REVERSAL_STATUSES = {"deny", "cancel", "failure"}


def _topup_reverse(wallet: Wallet, topup: Transaction, *, target: Decimal, why: str) -> Transaction | None:
    """Claw back up to ``target`` (cumulative) of a completed top-up; may leave the wallet in debt."""
    # Never more than was credited, and whole cents (round down: never take back more than reported).
    target = min(target, topup.amount).quantize(CENT, rounding=ROUND_DOWN)
    delta = target - _reversed_total(topup)
    if delta <= 0:
        return None
    clawback = _post(
        wallet=wallet,
        type=Type.REFUND,
        amount=-delta,
        description=f"Payment {topup.order_id} {why} by the payment provider",
        allow_debt=True,
        related=topup,
        reference=f"reversal:{topup.order_id}:{target}",
    )
    logger.warning(
        "Clawed back %s of top-up %s (%s); balance now %s", delta, topup.order_id, why, clawback.balance_after
    )
    return clawback


def topup_apply_status(*, topup_id, status: PaymentStatus) -> str:
    """Apply the gateway's status to a top-up: the forward-only state machine.

    - success (settlement, capture+accept): credit once; later successes only record the status
      (capture then settlement credits once);
    - pending: recorded while pending; never undoes a credit or a final state;
    - deny/cancel/expire/failure: a pending top-up becomes FAILED/CANCELLED/EXPIRED; a completed
      one that is denied, cancelled or failed (a reversal) is clawed back with a REFUND row;
    - refund/partial_refund/chargeback: the cumulative amount is clawed back, difference only;
    - a success whose amount does not match raises ``AmountMismatch`` and changes nothing.
    A late success on an EXPIRED/FAILED top-up still credits: the customer's money arrived.
    Returns a ``PaymentNotification.Outcome`` value.
    """
    user_id = Transaction.objects.values_list("user_id", flat=True).get(pk=topup_id)
    with db_transaction.atomic():
        wallet = _wallet_lock(user_id)
        topup = Transaction.objects.select_for_update().get(pk=topup_id)
        outcome = status.outcome

        if outcome == Outcome.SUCCESS:
            if not _amount_matches(topup, status):
                logger.error(
                    "Amount mismatch on top-up %s: expected %s IDR, gateway says %s %s",
                    topup.order_id,
                    topup.amount,
                    status.gross_amount,
                    status.currency,
                )
                raise AmountMismatch(extra={"expected": f"{topup.amount:.2f}", "received": status.gross_amount})
            if topup.status == Status.COMPLETED:
                _record_gateway(topup, status, [])
                return NoteOutcome.NO_CHANGE
            _topup_complete(wallet, topup, status)
            return NoteOutcome.CREDITED

        if outcome == Outcome.PENDING:
            if topup.status == Status.PENDING:
                _record_gateway(topup, status, [])
                return NoteOutcome.PENDING
            return NoteOutcome.NO_CHANGE

        if outcome in _FAILED_STATUS:
            if topup.status == Status.PENDING:
                topup.status = _FAILED_STATUS[outcome]
                topup.failure_reason = f"Payment {status.transaction_status} at the payment provider"
                _record_gateway(topup, status, ["status", "failure_reason"])
                emit_on_commit("payment.failed", user=topup.user, payload=_payment_payload(topup))
                return NoteOutcome.FAILED
            if topup.status == Status.COMPLETED and status.transaction_status in _REVERSAL_STATUSES:
                reversed_ = _topup_reverse(wallet, topup, target=topup.amount, why="reversed")
                _record_gateway(topup, status, [])
                return NoteOutcome.CLAWED_BACK if reversed_ else NoteOutcome.NO_CHANGE
            return NoteOutcome.NO_CHANGE

        if outcome == Outcome.REFUNDED:
            if topup.status != Status.COMPLETED:
                logger.warning(
                    "Ignoring %s for top-up %s in %s", status.transaction_status, topup.order_id, topup.status
                )
                return NoteOutcome.NO_CHANGE
            target = status.refund_amount_value
            if target is None:
                if status.transaction_status.startswith("partial_"):
                    logger.error("%s for %s carries no refund_amount", status.transaction_status, topup.order_id)
                    return NoteOutcome.NO_CHANGE
                target = topup.amount
            why = "charged back" if "chargeback" in status.transaction_status else "refunded"
            reversed_ = _topup_reverse(wallet, topup, target=target, why=why)
            _record_gateway(topup, status, [])
            return NoteOutcome.CLAWED_BACK if reversed_ else NoteOutcome.NO_CHANGE

        logger.warning("Unknown transaction_status %r for %s", status.transaction_status, topup.order_id)
        return NoteOutcome.NO_CHANGE


def topup_sync(*, topup_id) -> str:
    """Reconcile one top-up with the gateway's status API (for lost or late notifications).

    Applies the status if the gateway knows the payment; expires the top-up when its deadline has
    passed and the gateway has nothing better (not started, or still pending: then it is expired
    at the gateway too, so it can no longer be paid). Idempotent: state guard in
    ``topup_apply_status``; the expiry is a conditional UPDATE on PENDING.
    """
    topup = Transaction.objects.get(pk=topup_id, type=Type.TOPUP)
    if topup.status != Status.PENDING:
        return NoteOutcome.NO_CHANGE
    gateway = get_payment_gateway()
    status = gateway.get_status(topup.order_id)
    if status is not None and status.outcome != Outcome.PENDING:
        return topup_apply_status(topup_id=topup.pk, status=status)
    if topup.expires_at and topup.expires_at <= timezone.now():
        if status is not None:
            gateway.cancel(topup.order_id)
        with db_transaction.atomic():
            expired = Transaction.objects.filter(pk=topup.pk, status=Status.PENDING).update(
                status=Status.EXPIRED, failure_reason="Not paid before the deadline", updated_at=timezone.now()
            )
            if expired:
                topup.status = Status.EXPIRED
                emit_on_commit("payment.failed", user=topup.user, payload=_payment_payload(topup))
        return NoteOutcome.FAILED if expired else NoteOutcome.NO_CHANGE
    return NoteOutcome.PENDING


def topup_simulate_payment(*, topup: Transaction, transaction_status: str) -> dict:
    """Simulator only: record the customer's choice as the gateway state and return the signed
    notification the checkout page delivers to the webhook."""
    gateway = get_payment_gateway()
    if gateway.name != "simulator" or topup.gateway != "simulator":
        raise GatewayError("The payment simulator is not enabled.")
    return gateway.record(order_id=topup.order_id, amount=topup.amount, transaction_status=transaction_status)


# --- the gateway's notification ---------------------------------------------------------------


def notification_receive(*, payload: Any, remote_addr: str | None = None) -> PaymentNotification:
    """Handle one HTTP notification from Midtrans (or the simulator).

    1. The signature must match (``InvalidSignature``, 403): nothing is stored for forgeries.
    2. The body is stored as it came, for audit, whatever happens next.
    3. Unknown order -> ``UnknownOrder`` (404).
    4. With ``MIDTRANS_VERIFY_STATUS`` the status we act on comes from the status API, because the
       signature covers neither the status nor a timestamp (a replayed or edited body keeps a
       valid signature); an unreachable status API -> 503 so Midtrans retries.
    5. ``topup_apply_status`` applies it; an amount mismatch -> ``AmountMismatch`` (400).
    """
    if not isinstance(payload, dict):
        raise InvalidNotification("The notification body must be a JSON object.")
    if not verify_signature(payload, server_key=settings.MIDTRANS_SERVER_KEY):
        order = payload.get("order_id")
        logger.warning("Rejected a payment notification with a bad signature (order %r)", str(order)[:64])
        raise InvalidSignature()
    try:
        status = PaymentStatus.from_midtrans(payload)
    except ValueError as exc:
        raise InvalidNotification(f"The notification is incomplete: {exc}.") from None

    note = PaymentNotification.objects.create(
        order_id=status.order_id[:64],
        transaction_status=status.transaction_status[:32],
        status_code=status.status_code[:8],
        fraud_status=(status.fraud_status or "")[:16],
        gross_amount=status.gross_amount[:32],
        body=payload,
        remote_addr=remote_addr,
    )

    def finish(outcome: str, topup: Transaction | None = None, verified: str = "") -> PaymentNotification:
        note.outcome = outcome
        note.transaction = topup
        note.verified_status = verified[:32]
        note.save(update_fields=["outcome", "transaction", "verified_status"])
        return note

    topup = Transaction.objects.filter(order_id=status.order_id, type=Type.TOPUP).first()
    if topup is None:
        finish(NoteOutcome.UNKNOWN_ORDER)
        raise UnknownOrder()

    if settings.MIDTRANS_VERIFY_STATUS:
        try:
            verified = get_payment_gateway().get_status(status.order_id)
        except GatewayError as exc:
            finish(NoteOutcome.GATEWAY_UNAVAILABLE, topup)
            logger.warning("Could not confirm %s with the status API: %s", status.order_id, exc)
            raise PaymentGatewayUnavailable() from exc
        if verified is None:
            return finish(NoteOutcome.NOT_AT_GATEWAY, topup)
        if verified.order_id != status.order_id:
            finish(NoteOutcome.GATEWAY_UNAVAILABLE, topup)
            raise PaymentGatewayUnavailable("The status API answered for another order.")
        status = verified

    try:
        outcome = topup_apply_status(topup_id=topup.pk, status=status)
    except AmountMismatch:
        finish(NoteOutcome.AMOUNT_MISMATCH, topup, status.transaction_status)
        raise
    return finish(outcome, topup, status.transaction_status)
