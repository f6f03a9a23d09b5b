# The IdempotencyRecord model now belongs to paas (its table is renamed by paas 0002).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_ledger_append_only"),
        ("paas", "0001_idempotency_record"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyRecord")],
            database_operations=[],
        ),
    ]
