from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    """Abstract base: when a row was created (indexed, for listings) and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key``, replayed for 24 hours.

    Written by ``paas.api.idempotency``; one row per (user, key). ``fingerprint`` hashes method,
    path and body so the same key cannot be reused for a different request.
    """

    class State(models.TextChoices):
        STARTED = "started", "In progress"
        COMPLETED = "completed", "Completed"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="paas_idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class AuditEntry(models.Model):
    """Who did what to which object, when, why, and how it looked before and after: one row per
    operator action in the console or the operators' API. Never edited or deleted (a PostgreSQL
    trigger refuses it)."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, db_index=True, help_text="app_label.model")
    target_id = models.CharField(max_length=64, db_index=True)
    target_repr = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True, help_text="Empty when it went through; else why not.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id", "-created_at"], name="paas_audit_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"
