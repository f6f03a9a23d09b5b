"""Invoices: a gap-free yearly number and a frozen copy of what was sold to whom."""

from django.conf import settings
from django.contrib.auth import get_user_model

from billing.models import Invoice, InvoiceSequence, Transaction

Status = Transaction.Status
Type = Transaction.Type


def _numbers(year: int, count: int) -> range:
    """Take ``count`` consecutive numbers of ``year`` from its counter, locked until commit."""
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return range(first, first + count)


def _invoice(transaction: Transaction, user, year: int, number: int) -> Invoice:
    total = abs(transaction.amount)
    line = {
        "description": transaction.description,
        "quantity": 1,
        "unit_price": f"{total:.2f}",
        "amount": f"{total:.2f}",
    }
    if transaction.type == Type.TOPUP:
        reference = " / ".join(p for p in (transaction.order_id, transaction.payment_type) if p)
    else:
        reference = f"Paid from account credit ({transaction.pk})"
    return Invoice(
        number=f"INV-{year}-{number:06d}",
        year=year,
        sequence=number,
        user=user,
        transaction=transaction,
        issued_at=transaction.completed_at,
        customer_name=user.name or user.email,
        customer_email=user.email,
        seller={
            "name": settings.INVOICE_COMPANY_NAME,
            "address": settings.INVOICE_COMPANY_ADDRESS,
            "email": settings.INVOICE_COMPANY_EMAIL,
            "tax_id": settings.INVOICE_COMPANY_TAX_ID,
        },
        lines=[line],
        total=total,
        payment_reference=reference[:120],
    )


def _check_invoiceable(transaction: Transaction) -> None:
    if transaction.status != Status.COMPLETED or transaction.type not in (Type.TOPUP, Type.CHARGE):
        raise ValueError("Only completed top-ups and charges are invoiced.")


def invoice_issue(*, transaction: Transaction) -> Invoice:
    """Number and freeze the invoice of a completed top-up or charge.

    Must run inside the transaction that completed the ledger row: the per-year counter row is
    locked until commit, so a rollback returns the number and numbering stays gap-free. The cost
    is that completions serialize on that row for the few milliseconds of the insert.
    """
    _check_invoiceable(transaction)
    year = transaction.completed_at.year
    [number] = _numbers(year, 1)
    invoice = _invoice(transaction, transaction.user, year, number)
    invoice.save(force_insert=True)
    return invoice


def invoice_issue_many(*, transactions: list[Transaction]) -> list[Invoice]:
    """``invoice_issue`` for many completed rows at once: one counter lock per year, one insert.

    The same rules: inside the transaction that completed the rows; numbers follow their order.
    """
    for transaction in transactions:
        _check_invoiceable(transaction)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in={t.user_id for t in transactions})}
    invoices = []
    for year in sorted({t.completed_at.year for t in transactions}):
        of_year = [t for t in transactions if t.completed_at.year == year]
        numbers = _numbers(year, len(of_year))
        invoices += [_invoice(t, users[t.user_id], year, n) for t, n in zip(of_year, numbers, strict=True)]
    return Invoice.objects.bulk_create(invoices)
