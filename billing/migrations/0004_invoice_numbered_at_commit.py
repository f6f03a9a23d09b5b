"""Invoices are numbered while their transaction commits, not when they are written.

A gap-free number needs the year's counter row locked from the moment a number is taken until
the transaction that took it commits (a rollback must hand the number back). Taken inside the
charge, that lock was held through everything the caller did afterwards (a purchase creating its
subscription and instance), and every other customer's charge queued behind it. A deferred
constraint trigger takes the number during COMMIT instead: the counter is held for one upsert and
the commit itself, whatever the transaction around the charge does. A transaction that rolls back
(or a savepoint that does) never fires it, so it never takes a number.

The first firing of a commit numbers its whole batch (the invoices the transaction wrote in one
bulk insert) in one counter update and one UPDATE; the others find theirs done. Invoices written
with a number do not fire it. SQLite (local runs) has no deferred triggers;
there ``billing.services.invoices`` numbers at once, which costs nothing there since SQLite lets
one writer in at a time anyway.
"""

from django.db import migrations, models

from paas.migration_operations import PostgreSQLOnly

CREATE = """
CREATE OR REPLACE FUNCTION billing_invoice_number() RETURNS trigger AS $$
DECLARE
    pending integer;
    numbered integer;
    last integer;
BEGIN
    -- Numbered already, with the rest of its batch, by an earlier firing at this commit.
    PERFORM 1 FROM billing_invoice WHERE id = NEW.id AND sequence IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- Its batch: this transaction's invoices written in the same instant (a bulk insert shares
    -- created_at). Unnumbered rows of other transactions are invisible here, uncommitted, and
    -- committed ones are always numbered, so the index on created_at finds exactly these.
    SELECT count(*) INTO pending FROM billing_invoice
        WHERE created_at = NEW.created_at AND year = NEW.year AND sequence IS NULL;
    INSERT INTO billing_invoicesequence AS counter (year, last_number) VALUES (NEW.year, pending)
        ON CONFLICT (year) DO UPDATE SET last_number = counter.last_number + pending
        RETURNING counter.last_number INTO last;
    UPDATE billing_invoice AS invoice
        SET sequence = batch.sequence,
            number = 'INV-' || NEW.year || '-'
                || lpad(batch.sequence::text, greatest(6, length(batch.sequence::text)), '0')
        FROM (
            SELECT id, last - pending + row_number() OVER (ORDER BY issued_at, id) AS sequence
            FROM billing_invoice
            WHERE created_at = NEW.created_at AND year = NEW.year AND sequence IS NULL
        ) AS batch
        WHERE invoice.id = batch.id;
    GET DIAGNOSTICS numbered = ROW_COUNT;
    IF numbered <> pending THEN
        RAISE EXCEPTION 'invoice numbering: % numbers taken for % invoices', pending, numbered
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS billing_invoice_number ON billing_invoice;
CREATE CONSTRAINT TRIGGER billing_invoice_number
    AFTER INSERT ON billing_invoice
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.sequence IS NULL) EXECUTE FUNCTION billing_invoice_number();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_invoice_number ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_number();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_idempotency_record_moved")]

    operations = [
        migrations.AlterField(
            model_name="invoice",
            name="number",
            field=models.CharField(blank=True, max_length=20, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="sequence",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(number__isnull=True, sequence__isnull=True)
                | models.Q(number__isnull=False, sequence__isnull=False),
                name="billing_invoice_numbered_whole",
            ),
        ),
        PostgreSQLOnly(sql=[CREATE], reverse_sql=[DROP]),
    ]
