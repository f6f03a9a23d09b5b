"""A node's history is never changed: PostgreSQL refuses updates of its events (they go only with
their node). SQLite (local runs) has no such trigger; the services never do it anyway."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workers_nodeevent_never_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'workers_nodeevent % is history and cannot be changed', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS workers_nodeevent_never_change ON workers_nodeevent;
CREATE TRIGGER workers_nodeevent_never_change
    BEFORE UPDATE ON workers_nodeevent
    FOR EACH ROW EXECUTE FUNCTION workers_nodeevent_never_change();
"""

DROP = """
DROP TRIGGER IF EXISTS workers_nodeevent_never_change ON workers_nodeevent;
DROP FUNCTION IF EXISTS workers_nodeevent_never_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
