import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from paas.models import TimeStampedModel


class EmailMessage(TimeStampedModel):
    """One email to one user, from queueing to the provider's answer: the email log.

    ``context`` holds what the template needs and nothing secret; secrets a template needs
    (a password-reset link) are sealed in ``sealed_context`` and wiped once the email is sent.
    ``locked_until`` is the lease of the worker currently sending it (see ``email_send``).
    """

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_messages")
    to = models.EmailField(max_length=254)
    # A name from ``notifications.emails.EMAIL_TEMPLATES`` (checked when queued; not a database
    # choice, so adding a template needs no migration).
    template = models.CharField(max_length=64, db_index=True)
    event = models.CharField(max_length=64, blank=True, help_text="The event that caused it, if any.")
    subject = models.CharField(max_length=255)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    sealed_context = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=255, blank=True, help_text="The provider's message id.")
    sent_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notif_email_user_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["QUEUED", "SENT", "FAILED"]), name="notif_email_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="SENT") | models.Q(sent_at__isnull=False), name="notif_email_sent_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.to} ({self.status})"


class WebhookEndpoint(TimeStampedModel):
    """A URL of a customer's that receives the events it subscribes to, signed with its own secret.

    The secret is stored sealed (``notifications.crypto``): it must be recoverable to sign, and
    is shown to the customer once, when the endpoint is created. Repeated failed deliveries turn
    the endpoint off (``disabled_at``, ``disabled_reason``) until the customer turns it on again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=255, blank=True)
    events = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    secret_sealed = models.TextField(editable=False)
    is_active = models.BooleanField(default=True, db_index=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries in a row that failed for good (after every retry)."
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notif_endpoint_user_ctd")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TimeStampedModel):
    """One event sent to one endpoint, over as many attempts as it takes: the delivery log.

    ``body`` is fixed at creation, so every attempt sends the same bytes (re-signed with a fresh
    timestamp). ``next_attempt_at`` is when it is due; a worker claims it by pushing that time
    forward (a lease), so two workers never send the same attempt.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64, db_index=True)
    event_id = models.UUIDField(help_text="Shared by every delivery of one occurrence of the event.")
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField()
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The start of the receiver's answer.")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="notif_delivery_endpoint_ctd")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["PENDING", "SUCCEEDED", "FAILED"]), name="notif_delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.status})"
