"""Periodic tasks stored by django-celery-beat follow their tasks' new names.

Beat rewrites the entries of CELERY_BEAT_SCHEDULE when it starts; this also moves the entries
operators added themselves. A beat of the previous release, still running while this migrates,
is not told (no change marker): it keeps sending the names it loaded, which the previous
release's workers know and the new ones still run as aliases (``paas.task_aliases``); the new beat,
started last, reads the new names.
"""

from django.db import migrations

# Old name -> new name, as of this migration (written out: a migration must not change later).
RENAMED = {
    "accounts.flush_expired_tokens": "accounts.tokens_flush_expired",
    "billing.reconcile_topups": "billing.topups_reconcile",
    "billing.sync_topup": "billing.topup_sync",
    "paas.purge_idempotency_keys": "paas.idempotency_records_purge",
    "pods.purge": "pods.instances_purge_due",
    "pods.reconcile_due": "pods.instances_reconcile_due",
    "pods.reconcile_instance": "pods.instance_reconcile",
    "pods.sweep": "pods.instances_sweep",
    "subscriptions.billing_clock": "subscriptions.billing_clock_tick",
    "subscriptions.resume_paid": "subscriptions.subscriptions_resume_paid",
    "workers.mark_offline": "workers.nodes_mark_offline",
    "workers.sync_nodes": "workers.nodes_sync",
}


def _rename(apps, mapping: dict[str, str]) -> None:
    # A bulk update: no save signal, so a running scheduler does not reload (see above).
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in mapping.items():
        PeriodicTask.objects.filter(task=old).update(task=new)


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("paas", "0004_audit_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
