"""The audit trail is append-only: PostgreSQL refuses to change or delete an entry.

SQLite (local runs) has no such trigger; the services never do it anyway.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION paas_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'paas_auditentry % is an audit entry and cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS paas_auditentry_append_only ON paas_auditentry;
CREATE TRIGGER paas_auditentry_append_only
    BEFORE UPDATE OR DELETE ON paas_auditentry
    FOR EACH ROW EXECUTE FUNCTION paas_auditentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS paas_auditentry_append_only ON paas_auditentry;
DROP FUNCTION IF EXISTS paas_auditentry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("paas", "0003_audit_entry")]

    operations = [migrations.RunPython(forwards, backwards)]
