"""The audit trail is append-only: PostgreSQL refuses to change or delete an entry.

SQLite (local runs) has no such trigger; the services never do it anyway.
"""

from django.db import migrations

from paas.migration_operations import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("paas", "0003_audit_entry")]

    operations = [refuse_changes("paas_auditentry", what="an audit entry")]
