"""A node's history is never changed: PostgreSQL refuses updates of its events (they go only with
their node). SQLite (local runs) has no such trigger; the services never do it anyway."""

from django.db import migrations

from paas.migration_operations import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("workers", "0001_initial")]

    operations = [refuse_changes("workers_nodeevent", what="history", deletes=False)]
