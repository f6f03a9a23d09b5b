"""Completed ledger rows are immutable: PostgreSQL refuses to change their money or delete them.

Gateway bookkeeping (gateway_status, payload) may still be updated on a completed top-up; the
amount, balance_after, status, type, owner and completion time may not. SQLite (local runs) has
no such trigger; the services never do it anyway.
"""

from django.db import migrations

from paas.migration_operations import PostgreSQLOnly

CREATE = """
CREATE OR REPLACE FUNCTION billing_transaction_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'COMPLETED' THEN
            RAISE EXCEPTION 'billing_transaction % is a completed ledger row and cannot be deleted', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'COMPLETED' AND (
        NEW.status IS DISTINCT FROM OLD.status
        OR NEW.amount IS DISTINCT FROM OLD.amount
        OR NEW.balance_after IS DISTINCT FROM OLD.balance_after
        OR NEW.type IS DISTINCT FROM OLD.type
        OR NEW.user_id IS DISTINCT FROM OLD.user_id
        OR NEW.completed_at IS DISTINCT FROM OLD.completed_at
    ) THEN
        RAISE EXCEPTION 'billing_transaction % is a completed ledger row and cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS billing_transaction_append_only ON billing_transaction;
CREATE TRIGGER billing_transaction_append_only
    BEFORE UPDATE OR DELETE ON billing_transaction
    FOR EACH ROW EXECUTE FUNCTION billing_transaction_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_transaction_append_only ON billing_transaction;
DROP FUNCTION IF EXISTS billing_transaction_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [PostgreSQLOnly(sql=[CREATE], reverse_sql=[DROP])]
