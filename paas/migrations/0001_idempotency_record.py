# Idempotency records move from billing to the API plumbing. The table is taken over as it is
# (state only here); 0002 renames it once billing has let go of the model.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("billing", "0002_ledger_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("method", models.CharField(max_length=8)),
                        ("path", models.CharField(max_length=255)),
                        (
                            "state",
                            models.CharField(
                                choices=[("started", "In progress"), ("completed", "Completed")],
                                default="started",
                                max_length=16,
                            ),
                        ),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.JSONField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(db_index=True)),
                        ("updated_at", models.DateTimeField()),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "billing_idempotencyrecord",
                        "ordering": ["-created_at"],
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "key"), name="billing_idempotency_user_key_unique")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
