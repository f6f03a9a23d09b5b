"""Invoices: a gap-free yearly number and a frozen copy of what was sold to whom.

A number is gap-free because the year's counter row stays locked from the moment a number is
taken until the transaction that took it commits (a rollback hands it back). So numbers are taken
as late as can be: on PostgreSQL an invoice is written without one, and a deferred trigger numbers
it while its transaction commits (migration 0004), however long the caller's transaction goes on
after the charge. A charge never waits on another customer's transaction for longer than it takes
to take a number, and a bulk insert of invoices is numbered in one go. Without the trigger
(SQLite, local runs: one writer at a time anyway) numbers are taken at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from billing.models import Invoice, InvoiceSequence, Transaction
from paas.bulk import any_of, insert_rows

Status = Transaction.Status
Type = Transaction.Type


def _numbered_at_commit() -> bool:
    return connection.vendor == "postgresql"


def _numbers(year: int, count: int) -> range:
    """Take ``count`` consecutive numbers of ``year`` from its counter, locked until commit."""
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return range(first, first + count)


def _number(year: int, sequence: int | None) -> str | None:
    return None if sequence is None else f"INV-{year}-{sequence:06d}"


def _seller() -> dict:
    return {
        "name": settings.INVOICE_COMPANY_NAME,
        "address": settings.INVOICE_COMPANY_ADDRESS,
        "email": settings.INVOICE_COMPANY_EMAIL,
        "tax_id": settings.INVOICE_COMPANY_TAX_ID,
    }


def _lines(description: str, total: Decimal) -> list[dict]:
    return [{"description": description, "quantity": 1, "unit_price": f"{total:.2f}", "amount": f"{total:.2f}"}]


def _credit_reference(transaction_id) -> str:
    return f"Paid from account credit ({transaction_id})"[:120]


def _invoice(transaction: Transaction, user, year: int, number: int | None) -> Invoice:
    total = abs(transaction.amount)
    if transaction.type == Type.TOPUP:
        reference = " / ".join(p for p in (transaction.order_id, transaction.payment_type) if p)
    else:
        reference = _credit_reference(transaction.pk)
    return Invoice(
        number=_number(year, number),
        year=year,
        sequence=number,
        user=user,
        transaction=transaction,
        issued_at=transaction.completed_at,
        customer_name=user.name or user.email,
        customer_email=user.email,
        seller=_seller(),
        lines=_lines(transaction.description, total),
        total=total,
        payment_reference=reference[:120],
    )


def _check_invoiceable(transaction: Transaction) -> None:
    if transaction.status != Status.COMPLETED or transaction.type not in (Type.TOPUP, Type.CHARGE):
        raise ValueError("Only completed top-ups and charges are invoiced.")


def invoice_issue(*, transaction: Transaction, user=None) -> Invoice:
    """Freeze the invoice of a completed top-up or charge; it is numbered as the transaction commits.

    Must run inside the transaction that completed the ledger row, so the invoice exists exactly
    when the row does. ``user`` is the row's owner when the caller has it at hand (saves a query).
    """
    _check_invoiceable(transaction)
    year = transaction.completed_at.year
    number = None if _numbered_at_commit() else _numbers(year, 1)[0]
    invoice = _invoice(transaction, user or transaction.user, year, number)
    invoice.save(force_insert=True)
    return invoice


@dataclass(frozen=True)
class ChargeRow:
    """What the invoice of one completed CHARGE needs, without loading the ledger row."""

    transaction_id: uuid.UUID
    user_id: uuid.UUID
    total: Decimal
    description: str
    completed_at: datetime


def invoice_issue_rows(rows: list[ChargeRow]) -> int:
    """The invoices of many completed charges, in one insert (numbered at commit, in their order
    of issue). Must run inside the transaction that completed the charges. Returns how many."""
    if not rows:
        return 0
    User = get_user_model()
    users = User.objects.filter(any_of(User, "id", list({r.user_id for r in rows})))
    people = {pk: (name or email, email) for pk, name, email in users.values_list("pk", "name", "email")}
    seller = _seller()
    issued = 0
    for year in sorted({r.completed_at.year for r in rows}):
        of_year = [r for r in rows if r.completed_at.year == year]
        numbers = [None] * len(of_year) if _numbered_at_commit() else list(_numbers(year, len(of_year)))
        issued += insert_rows(
            Invoice,
            {
                "id": [uuid.uuid4() for _ in of_year],
                "number": [_number(year, n) for n in numbers],
                "sequence": numbers,
                "user_id": [r.user_id for r in of_year],
                "transaction_id": [r.transaction_id for r in of_year],
                "issued_at": [r.completed_at for r in of_year],
                "customer_name": [people[r.user_id][0] for r in of_year],
                "customer_email": [people[r.user_id][1] for r in of_year],
                "lines": [_lines(r.description, r.total) for r in of_year],
                "total": [r.total for r in of_year],
                "payment_reference": [_credit_reference(r.transaction_id) for r in of_year],
            },
            year=year,
            seller=seller,
        )
    return issued
