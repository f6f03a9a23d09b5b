"""A subscription's history is append-only: PostgreSQL refuses to change or delete an event.

SQLite (local runs) has no such trigger; the services never do it anyway.
"""

from django.db import migrations

from paas.migration_operations import refuse_changes


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [refuse_changes("subscriptions_subscriptionevent", what="history")]
