"""Create an instance for a customer, as an operator (the same service the admin and the API use)."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from catalog.models import Plan
from catalog.selectors import id_or_slug_lookup
from pods.services import instance_create


class Command(BaseCommand):
    help = "Create an app instance for a user: manage.py create_instance ops@example.com n8n --plan starter"

    def add_arguments(self, parser):
        parser.add_argument("owner", help="Email of the user who will own it")
        parser.add_argument("service", help="Service slug or id, e.g. n8n")
        parser.add_argument("--plan", required=True, help="Plan slug or id of that service, e.g. starter")
        parser.add_argument("--name", default=None, help="Display name (default: the service's name)")
        parser.add_argument("--config", default=None, help="Settings as a JSON object")

    def handle(self, *args, owner, service, plan, name, config, **options):
        user = User.objects.filter(email__iexact=owner.strip()).first()
        if user is None:
            raise CommandError(f"No user with email {owner!r}.")
        service_lookup, plan_lookup = id_or_slug_lookup(service), id_or_slug_lookup(plan)
        found = None
        if service_lookup and plan_lookup:
            prefixed = {f"service__{k}": v for k, v in service_lookup.items()}
            found = Plan.objects.select_related("service").filter(**prefixed, **plan_lookup).first()
        if found is None:
            raise CommandError(f"No plan {plan!r} of service {service!r} (manage.py seed loads the catalog).")
        try:
            parsed = json.loads(config) if config is not None else None
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from None
        try:
            instance = instance_create(owner=user, plan=found, name=name, config=parsed)
        except ValidationError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"Refused: {details}") from None
        self.stdout.write(f"instance {instance.pk} ({instance.name}) created for {user.email}")
        self.stdout.write(f"url: {instance.url}")
        self.stdout.write(
            "It is provisioned by the worker; follow it with: manage.py reconcile --instance " + str(instance.pk)
        )
