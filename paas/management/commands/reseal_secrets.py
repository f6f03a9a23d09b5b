"""Seal every stored secret again under the current SECRET_KEY, the middle step of its rotation.

Run it after the new key is in ``SECRET_KEY`` and the old one in ``SECRET_KEY_FALLBACKS`` (on every
process), and before dropping the fallback. It can run any number of times, also while the
platform serves: each batch of rows is locked while it is re-sealed, so a secret written
meanwhile is never overwritten with an older one.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.services import EMAIL_SEAL_PURPOSE, WEBHOOK_SEAL_PURPOSE
from paas import crypto
from pods.services.desired import SECRETS_PURPOSE

# (model, field, purpose) of every value sealed with paas.crypto.
SEALED_FIELDS = (
    ("notifications.WebhookEndpoint", "secret_sealed", WEBHOOK_SEAL_PURPOSE),
    ("notifications.EmailMessage", "sealed_context", EMAIL_SEAL_PURPOSE),
    ("pods.ServiceInstance", "secrets_sealed", SECRETS_PURPOSE),
)
BATCH = 500


class Command(BaseCommand):
    help = "Re-seal stored secrets (webhook secrets, queued emails, app secrets) under the current SECRET_KEY."

    def handle(self, *args, **options):
        unreadable = 0
        for label, field, purpose in SEALED_FIELDS:
            done, failed = self._reseal(apps.get_model(label), field, purpose)
            unreadable += failed
            self.stdout.write(f"{label}.{field}: {done} re-sealed, {failed} unreadable")
        if unreadable:
            # Never print the values: the ids are enough to find them.
            raise CommandError(
                f"{unreadable} value(s) open with none of the configured keys: is the old key in SECRET_KEY_FALLBACKS?"
            )

    def _reseal(self, model, field: str, purpose: str) -> tuple[int, int]:
        done = failed = 0
        last_pk = None
        while True:
            with transaction.atomic():
                rows = model._default_manager.exclude(**{field: ""}).order_by("pk")
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.select_for_update(of=("self",)).only("pk", field)[:BATCH])
                if not batch:
                    return done, failed
                changed = []
                for row in batch:
                    try:
                        setattr(row, field, crypto.reseal(getattr(row, field), purpose=purpose))
                    except crypto.SealError:
                        failed += 1
                        self.stderr.write(f"{model._meta.label} {row.pk}: {field} opens with no configured key")
                        continue
                    changed.append(row)
                model._default_manager.bulk_update(changed, [field])
                done += len(changed)
                last_pk = batch[-1].pk
