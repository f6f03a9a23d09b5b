"""An instance's history is append-only: PostgreSQL refuses to change or delete an event.

SQLite (local runs) has no such trigger; the services never do it anyway.
"""

from django.db import migrations

from paas.migration_operations import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("pods", "0001_initial")]

    operations = [refuse_changes("pods_instanceevent", what="history")]
