"""Email templates: what each one is called, its subject, and how it is rendered.

Each template is a pair of files in ``templates/notifications/email/`` (``<name>.txt`` and
``<name>.html``) extending one base layout. The subject is a one-line template string here.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.template import Context, Template
from django.template.loader import render_to_string


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    subject: str
    # Context keys that are secrets: sealed at rest, never in ``EmailMessage.context``.
    secret_fields: tuple[str, ...] = field(default=())


EMAIL_TEMPLATES: dict[str, EmailTemplate] = {
    t.name: t
    for t in (
        EmailTemplate("welcome", "Welcome to {{ site_name }}"),
        EmailTemplate("password-reset", "Reset your password", secret_fields=("reset_link",)),
        EmailTemplate("payment-received", "Payment received: {{ transaction.amount|idr }}"),
        EmailTemplate("subscription-created", "Your {{ subscription.service }} subscription is active"),
        EmailTemplate("service-ready", "{{ instance.name }} is ready"),
        EmailTemplate("subscription-expiring", "{{ subscription.name }}: the current period ends soon"),
        EmailTemplate("subscription-suspended", "{{ subscription.name }} is suspended: renewal failed"),
        EmailTemplate("subscription-expired", "{{ subscription.name }} has expired"),
        EmailTemplate(
            "instance-failed",
            "{{ instance.name }} "
            "{% if instance.ever_ready %}has stopped working{% else %}could not be started{% endif %}",
        ),
        EmailTemplate("subscription-cancelled", "{{ subscription.name }} has ended"),
        EmailTemplate("webhook-disabled", "Your webhook endpoint was turned off"),
        EmailTemplate("node-offline", "Worker node {{ node.name }} is offline"),
    )
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def site_context() -> dict:
    return {"site_name": getattr(settings, "NOTIFICATIONS_SITE_NAME", "PaaS")}


def render_subject(template: str, context: dict) -> str:
    source = "{% load notifications_email %}" + EMAIL_TEMPLATES[template].subject
    subject = Template(source).render(Context({**site_context(), **context}, autoescape=False))
    # A header cannot span lines; a value with a newline must not break (or inject) headers.
    return " ".join(subject.split())[:255]


def render_email(template: str, context: dict) -> RenderedEmail:
    """Subject, plain text and HTML for ``template``; ``context`` must include its secret fields."""
    full = {**site_context(), **context}
    base = f"notifications/email/{template}"
    return RenderedEmail(
        subject=render_subject(template, context),
        text=render_to_string(f"{base}.txt", full).strip() + "\n",
        html=render_to_string(f"{base}.html", full),
    )
