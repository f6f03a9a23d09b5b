"""Every email template renders with a realistic context and no missing variable."""

import pytest

from notifications.emails import EMAIL_TEMPLATES, render_email
from notifications.events import EVENT_EMAIL_TEMPLATES

MISSING = "MISSING[%s]"

SUBSCRIPTION = {
    "id": "4f7d1c9e-5b0a-4a53-9d0f-1f5e1c2b3a4d",
    "name": "Team automations",
    "service": "n8n",
    "plan": "starter",
    "status": "ACTIVE",
    "auto_renew": True,
    "current_period_end": "2026-06-01T07:00:00Z",
    "grace_until": "2026-06-08T07:00:00Z",
}

# What the callers of emit() pass for each template (see docs/webhooks.md), plus the name.
CONTEXTS = {
    "welcome": {"name": "Sari Dewi"},
    "password-reset": {
        "name": "Sari Dewi",
        "minutes": 120,
        "reset_link": "https://app.example.com/reset-password?uid=MTIz&token=c4k2-abcdef",
    },
    "payment-received": {
        "name": "Sari Dewi",
        "transaction": {
            "id": "0b3f0d9c-2f4f-4d0e-b9a7-6c1d2e3f4a5b",
            "type": "TOPUP",
            "amount": "150000.00",
            "order_id": "TOPUP-20260501-8F3K2Q",
            "completed_at": "2026-05-01T07:12:00Z",
        },
        "balance": "275000.00",
    },
    "subscription-created": {"name": "Sari Dewi", "subscription": SUBSCRIPTION, "amount": "75000.00"},
    "service-ready": {
        "name": "Sari Dewi",
        "instance": {
            "id": "9a8b7c6d-0000-4000-8000-000000000001",
            "name": "Team automations",
            "service": "n8n",
            "status": "RUNNING",
            "url": "https://n8n-x1.apps.example.com",
        },
    },
    "subscription-expiring": {
        "name": "Sari Dewi",
        "subscription": SUBSCRIPTION,
        "amount": "75000.00",
        "balance": "20000.00",
    },
    "subscription-suspended": {
        "name": "Sari Dewi",
        "subscription": {**SUBSCRIPTION, "status": "SUSPENDED"},
        "amount": "75000.00",
        "balance": "20000.00",
    },
    "subscription-expired": {"name": "Sari Dewi", "subscription": {**SUBSCRIPTION, "status": "EXPIRED"}},
    "instance-failed": {
        "name": "Sari Dewi",
        "instance": {
            "id": "9a8b7c6d-0000-4000-8000-000000000001",
            "name": "Team automations",
            "service": "n8n",
            "ever_ready": True,
            "status": "FAILED",
            "status_message": "ImagePullBackOff",
        },
    },
    "subscription-cancelled": {
        "name": "Sari Dewi",
        "subscription": {**SUBSCRIPTION, "status": "CANCELLED"},
        "refund": "42500.00",
        "reason": "Cancelled by request.",
    },
    "node-offline": {
        "name": "Sari Dewi",
        "node": {"name": "worker-3", "last_heartbeat_at": "2026-05-01T07:12:00Z"},
        "at_risk": 4,
    },
    "webhook-disabled": {
        "name": "Sari Dewi",
        "endpoint": {"id": "1d2e3f40-0000-4000-8000-000000000002", "url": "https://hooks.example.com/paas"},
        "reason": "5 deliveries in a row failed after every retry",
    },
}


@pytest.fixture
def strict_templates(settings):
    """Render missing variables as a visible marker instead of an empty string."""
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "OPTIONS": {**engine["OPTIONS"], "string_if_invalid": MISSING}}]


def test_every_template_has_a_realistic_context_here():
    assert set(CONTEXTS) == set(EMAIL_TEMPLATES)
    assert set(EVENT_EMAIL_TEMPLATES.values()) <= set(EMAIL_TEMPLATES)


@pytest.mark.parametrize("template", sorted(EMAIL_TEMPLATES))
def test_template_renders_every_variable(strict_templates, template):
    rendered = render_email(template, CONTEXTS[template])

    for part in (rendered.subject, rendered.text, rendered.html):
        assert "MISSING[" not in part, part
    assert rendered.subject and "\n" not in rendered.subject
    assert "Hello Sari Dewi," in rendered.text
    assert "Hello Sari Dewi," in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert "<" not in rendered.text.replace("<!--", "")


def test_strict_rendering_catches_a_missing_variable(strict_templates):
    context = {k: v for k, v in CONTEXTS["service-ready"].items() if k != "instance"}

    rendered = render_email("service-ready", context)

    assert "MISSING[instance.url]" in rendered.text


def test_money_and_dates_are_formatted_for_people(strict_templates):
    rendered = render_email("payment-received", CONTEXTS["payment-received"])

    assert rendered.subject == "Payment received: IDR 150,000.00"
    assert "IDR 275,000.00" in rendered.text
    assert "1 May 2026, 07:12 UTC" in rendered.text


def test_text_part_is_not_html_escaped_and_html_part_is(strict_templates):
    context = {
        **CONTEXTS["service-ready"],
        "instance": {**CONTEXTS["service-ready"]["instance"], "name": "R&D <lab>"},
    }

    rendered = render_email("service-ready", context)

    assert "R&D <lab>" in rendered.text
    assert "R&amp;D &lt;lab&gt;" in rendered.html
    assert rendered.subject == "R&D <lab> is ready"


def test_subject_cannot_carry_a_header_line_break():
    context = {**CONTEXTS["subscription-expired"], "subscription": {"name": "x\r\nBcc: victim@example.com"}}

    rendered = render_email("subscription-expired", context)

    assert "\n" not in rendered.subject and "\r" not in rendered.subject
