"""The catalogue of things the product says happened, and where each one is told.

Webhook events are the public contract (API.md); email-only events never reach webhooks.
An event is emailed when it names an email template here.
"""

# Public: customers subscribe their webhook endpoints to these.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "subscription.created",
    "subscription.renewed",
    "subscription.suspended",
    "subscription.cancelled",
    "subscription.expired",
    "instance.ready",
    "instance.failed",
    "instance.stopped",
    "instance.deleted",
    "payment.succeeded",
    "payment.failed",
    "balance.low",
)

# Told by email only: they concern the account itself, or are reminders rather than facts.
EMAIL_ONLY_EVENTS: tuple[str, ...] = (
    "user.registered",
    "subscription.expiring",
)

# The event a test delivery (POST /webhooks/{id}/test) carries; never emitted by the product.
PING_EVENT = "ping"

EVENT_EMAIL_TEMPLATES: dict[str, str] = {
    "user.registered": "welcome",
    "subscription.created": "subscription-created",
    "subscription.expiring": "subscription-expiring",
    "subscription.suspended": "subscription-suspended",
    "subscription.expired": "subscription-expired",
    "subscription.cancelled": "subscription-cancelled",
    "instance.ready": "service-ready",
    "instance.failed": "instance-failed",
    "payment.succeeded": "payment-received",
}

ALL_EVENTS: frozenset[str] = frozenset(WEBHOOK_EVENTS) | frozenset(EMAIL_ONLY_EVENTS)
