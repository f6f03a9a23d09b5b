"""A subscription's history is append-only: PostgreSQL refuses to change or delete an event.

SQLite (local runs) has no such trigger; the services never do it anyway.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION subscriptions_subscriptionevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'subscriptions_subscriptionevent % is history and cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS subscriptions_subscriptionevent_append_only ON subscriptions_subscriptionevent;
CREATE TRIGGER subscriptions_subscriptionevent_append_only
    BEFORE UPDATE OR DELETE ON subscriptions_subscriptionevent
    FOR EACH ROW EXECUTE FUNCTION subscriptions_subscriptionevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS subscriptions_subscriptionevent_append_only ON subscriptions_subscriptionevent;
DROP FUNCTION IF EXISTS subscriptions_subscriptionevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
