from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("paas", "0001_idempotency_record"),
        ("billing", "0003_idempotency_record_moved"),
    ]

    operations = [
        migrations.AlterModelTable(name="idempotencyrecord", table=None),
        migrations.RemoveConstraint(model_name="idempotencyrecord", name="billing_idempotency_user_key_unique"),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(fields=("user", "key"), name="paas_idempotency_user_key_unique"),
        ),
    ]
