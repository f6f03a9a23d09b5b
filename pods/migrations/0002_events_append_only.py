"""An instance's history is append-only: PostgreSQL refuses to change or delete an event.

SQLite (local runs) has no such trigger; the services never do it anyway.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION pods_instanceevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'pods_instanceevent % is history and cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS pods_instanceevent_append_only ON pods_instanceevent;
CREATE TRIGGER pods_instanceevent_append_only
    BEFORE UPDATE OR DELETE ON pods_instanceevent
    FOR EACH ROW EXECUTE FUNCTION pods_instanceevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS pods_instanceevent_append_only ON pods_instanceevent;
DROP FUNCTION IF EXISTS pods_instanceevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("pods", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
