"""Print the manifests an instance of a catalog service would get, as multi-document YAML.

For operators to inspect what the platform applies. Nothing is applied or stored; the ids are
derived from the arguments so the output is stable, and Secret values are placeholders unless
``--show-secrets`` (then freshly generated, never the values of a real instance).
"""

import json
import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Plan, Service
from catalog.selectors import id_or_slug_lookup
from templates.exceptions import TemplateError
from templates.naming import namespace_for_user
from templates.output import manifests_to_yaml, redact_secrets
from templates.renderer import render_manifests
from templates.secrets import secrets_generate_missing

_PREVIEW = uuid.UUID("6f1c1a51-7b43-4c1e-9a3e-0c5f1d1e2a00")


class Command(BaseCommand):
    help = "Render the Kubernetes manifests of a service/plan as YAML (nothing is applied)."

    def add_arguments(self, parser):
        parser.add_argument("service", help="Service slug (or id), e.g. ghost")
        parser.add_argument("--plan", required=True, help="Plan slug (or id) of that service, e.g. starter")
        parser.add_argument("--name", default=None, help="Instance name as a customer would type it")
        parser.add_argument("--config", default=None, help="Customer config as a JSON object, e.g. '{\"debug\": true}'")
        parser.add_argument("--namespace", default=None, help="Namespace (default: a preview customer's)")
        parser.add_argument("--domain", default=None, help="Base domain (default: PAAS_APPS_DOMAIN)")
        parser.add_argument("--show-secrets", action="store_true", help="Print generated secret values")

    def _service(self, ref: str) -> Service:
        lookup = id_or_slug_lookup(ref)
        service = Service.objects.filter(**lookup).first() if lookup is not None else None
        if service is None:
            known = ", ".join(Service.objects.values_list("slug", flat=True)) or "none (run manage.py seed)"
            raise CommandError(f"Unknown service {ref!r}; known: {known}.")
        return service

    def _plan(self, service: Service, ref: str) -> Plan:
        lookup = id_or_slug_lookup(ref)
        plan = service.plans.filter(**lookup).first() if lookup is not None else None
        if plan is None:
            known = ", ".join(service.plans.values_list("slug", flat=True)) or "none"
            raise CommandError(f"Unknown plan {ref!r} for {service.slug}; known: {known}.")
        return plan

    def handle(self, *args, service, plan, name, config, namespace, domain, show_secrets, **options):
        svc = self._service(service)
        pln = self._plan(svc, plan)
        try:
            parsed = json.loads(config) if config is not None else {}
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from None
        name = name if name is not None else svc.slug
        instance_id = uuid.uuid5(_PREVIEW, f"{svc.slug}/{pln.slug}/{name}")
        user_id = uuid.uuid5(_PREVIEW, "preview-user")
        try:
            manifests = render_manifests(
                service=svc,
                plan=pln,
                instance_name=name,
                namespace=namespace or namespace_for_user(user_id),
                config=parsed,
                instance_id=instance_id,
                user_id=user_id,
                secrets=secrets_generate_missing(template_key=svc.template),
                base_domain=domain,
            )
        except ValidationError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"Invalid config: {details}") from None
        except (TemplateError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if not show_secrets:
            manifests = redact_secrets(manifests)
        self.stdout.write(manifests_to_yaml(manifests), ending="")
