"""Subscriptions: what a customer bought (a plan of a service, paid a period at a time from their
balance) and its one app instance.

Only ``subscriptions.services`` writes these tables, and every status change goes through
``subscriptions.services.transitions``, which knows the allowed moves and writes the history.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from paas.models import TimeStampedModel


class SubscriptionQuerySet(models.QuerySet):
    """The words the billing clock, the reactions, the purchase rules and the console share about
    subscriptions, each defined once."""

    def live(self) -> SubscriptionQuerySet:
        """Still running its course (ACTIVE or SUSPENDED): counted against the per-user limit, renewing,
        able to change plan. ``Subscription.is_live`` is the same test on one row."""
        return self.filter(status__in=Subscription.LIVE_STATUSES)

    def due(self, now: datetime) -> SubscriptionQuerySet:
        """ACTIVE with a period that ended by ``now``: the billing clock renews, suspends or ends each
        (served by the ``subs_due`` partial index)."""
        return self.filter(status=Subscription.Status.ACTIVE, current_period_end__lte=now)

    def grace_ended(self, now: datetime) -> SubscriptionQuerySet:
        """SUSPENDED with a grace period over by ``now``: the billing clock expires each (``subs_grace``)."""
        return self.filter(status=Subscription.Status.SUSPENDED, grace_until__lte=now)

    def resumable(self) -> SubscriptionQuerySet:
        """SUSPENDED with automatic renewal on: money arriving resumes them (oldest first) when it pays
        for them. One whose owner turned renewal off waits for its owner: money arriving is not
        their consent to be charged."""
        return self.filter(status=Subscription.Status.SUSPENDED, auto_renew=True)


class Subscription(TimeStampedModel):
    """A prepaid subscription: ``plan`` of ``service`` for ``user``, one ``instance``.

    ACTIVE: paid until ``current_period_end``. SUSPENDED: a renewal was not paid; the app is
    stopped (data kept) until ``grace_until``. EXPIRED: the grace ended unpaid; the app is deleted.
    CANCELLED: ended by its owner (or an operator, or a first provisioning that failed).
    ``period_price`` is the monthly price the current period is billed at and ``period_paid`` what
    was actually paid for it (net of credits): pro rata refunds never exceed it.
    """

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        SUSPENDED = "SUSPENDED", "Suspended"
        CANCELLED = "CANCELLED", "Cancelled"
        EXPIRED = "EXPIRED", "Expired"

    # Still running its course: counted against the per-user limit, renewing, changing plan.
    LIVE_STATUSES = (Status.ACTIVE, Status.SUSPENDED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey("catalog.Plan", on_delete=models.PROTECT, related_name="subscriptions")
    instance = models.OneToOneField("pods.ServiceInstance", on_delete=models.PROTECT, related_name="subscription")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    auto_renew = models.BooleanField(default=True)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField(db_index=True)
    grace_until = models.DateTimeField(null=True, blank=True, db_index=True)
    period_price = models.DecimalField(max_digits=12, decimal_places=2)
    period_paid = models.DecimalField(max_digits=12, decimal_places=2)
    # The instance is down through no act of the customer since then (credited when it is back).
    downtime_since = models.DateTimeField(null=True, blank=True)
    downtime_reason = models.CharField(max_length=500, blank=True)
    # The period end the expiry warning was last sent for: one warning per period.
    warned_for = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="subs_user_created"),
            # The billing clock's two scans: due renewals, and ended grace periods.
            models.Index(fields=["current_period_end", "id"], name="subs_due", condition=Q(status="ACTIVE")),
            models.Index(fields=["grace_until", "id"], name="subs_grace", condition=Q(status="SUSPENDED")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "SUSPENDED", "CANCELLED", "EXPIRED"]), name="subs_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=models.F("current_period_start")), name="subs_period_positive"
            ),
            models.CheckConstraint(condition=Q(period_paid__gte=0), name="subs_period_paid_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="SUSPENDED") | Q(grace_until__isnull=False), name="subs_suspended_has_grace"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class SubscriptionEvent(models.Model):
    """One thing that happened to a subscription: a status change, a charge, a credit, a request.

    Append-only (a PostgreSQL trigger refuses updates and deletes).
    """

    id = models.BigAutoField(primary_key=True)
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.CharField(max_length=64)
    message = models.CharField(max_length=500, blank=True)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Money moved: - charged, + credited."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for it; empty for the platform itself.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subscription", "-created_at"], name="subs_event_sub_created")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.message[:60]}"
