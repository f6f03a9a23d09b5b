"""Invoices: a gap-free yearly number and a frozen copy of what was sold to whom."""

from django.conf import settings

from billing.models import Invoice, InvoiceSequence, Transaction

Status = Transaction.Status
Type = Transaction.Type


def invoice_issue(*, transaction: Transaction) -> Invoice:
    """Number and freeze the invoice of a completed top-up or charge.

    Must run inside the transaction that completed the ledger row: the per-year counter row is
    locked until commit, so a rollback returns the number and numbering stays gap-free. The cost
    is that completions serialize on that row for the few milliseconds of the insert.
    """
    if transaction.status != Status.COMPLETED or transaction.type not in (Type.TOPUP, Type.CHARGE):
        raise ValueError("Only completed top-ups and charges are invoiced.")
    issued_at = transaction.completed_at
    year = issued_at.year
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])

    user = transaction.user
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
    return Invoice.objects.create(
        number=f"INV-{year}-{sequence.last_number:06d}",
        year=year,
        sequence=sequence.last_number,
        user=user,
        transaction=transaction,
        issued_at=issued_at,
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
