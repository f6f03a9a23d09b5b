"""Load what a fresh installation needs. Safe to run any number of times."""

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.services import superuser_ensure
from catalog.services import catalog_seed


class Command(BaseCommand):
    help = "Seed the catalog and, when DJANGO_SUPERUSER_* is set, the first administrator (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if email and password:
            name = os.environ.get("DJANGO_SUPERUSER_NAME") or "Administrator"
            _, created = superuser_ensure(email=email, password=password, name=name)
            self.stdout.write(f"administrator {email}: {'created' if created else 'already there'}")
        seeded = catalog_seed()
        self.stdout.write(f"catalog: {seeded['services']} service(s) and {seeded['plans']} plan(s) created")
