"""Migration operations the apps share: SQL only PostgreSQL runs, and tables kept as history.

Migrations import these, so what they emit must never change: a new need gets a new function.
"""

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """``RunSQL`` that runs on PostgreSQL alone: the triggers guarding ledgers and histories.

    SQLite (local runs) gets nothing; the services never do what the triggers refuse anyway. Give
    ``sql`` and ``reverse_sql`` as one-item lists so that function bodies reach the server whole.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def refuse_changes(table: str, *, what: str, deletes: bool = True) -> PostgreSQLOnly:
    """A trigger that keeps ``table`` as history: PostgreSQL refuses to update its rows, and to
    delete them unless ``deletes`` is off (rows that go with their parent). ``what`` names a row
    in the error ("history", "an audit entry")."""
    name = f"{table}_{'append_only' if deletes else 'never_change'}"
    refused = "UPDATE OR DELETE" if deletes else "UPDATE"
    message = f"{table} % is {what} and cannot be changed{' or deleted' if deletes else ''}"
    create = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{message}', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS {name} ON {table};
CREATE TRIGGER {name}
    BEFORE {refused} ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""
    return PostgreSQLOnly(sql=[create], reverse_sql=[drop])
