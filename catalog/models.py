from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from paas.models import TimeStampedModel
from templates.exceptions import UnknownTemplate
from templates.registry import get_blueprint, validate_template_key

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
slug_validator = RegexValidator(SLUG_PATTERN, "Lowercase letters, digits and single dashes, e.g. ghost-pro.")

# Upper bounds keep a typo (an extra zero) from producing a plan no node can ever run.
MAX_CPU_MILLICORES = 64_000
MAX_MEMORY_MB = 262_144
MAX_STORAGE_GB = 10_240


class ServiceQuerySet(models.QuerySet):
    def sellable(self) -> ServiceQuerySet:
        """Services customers can buy: active (an inactive one keeps its plans and subscriptions)."""
        return self.filter(is_active=True)


class PlanQuerySet(models.QuerySet):
    def sellable(self) -> PlanQuerySet:
        """Plans customers can buy, change to, and see in the public catalog: the plan and its
        service both active. ``subscriptions.services.check_sellable`` refuses the others."""
        return self.filter(is_active=True, service__is_active=True)


class Service(TimeStampedModel):
    """An app the platform sells (n8n, Ghost, ...), deployed from the blueprint named by ``template``.

    Inactive services are hidden from the public catalog but keep their plans and subscriptions.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    category = models.CharField(max_length=50, blank=True, db_index=True)
    template = models.CharField(
        max_length=50, validators=[validate_template_key], help_text="Key of the blueprint that deploys it."
    )
    version = models.CharField(max_length=50, blank=True, help_text="App version shown to customers.")
    is_active = models.BooleanField(default=True, db_index=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(slug__regex=SLUG_PATTERN), name="catalog_service_slug_format"),
        ]

    def __str__(self) -> str:
        return self.name


class Plan(TimeStampedModel):
    """A size of a service at a monthly price in IDR: the resources one subscription gets.

    ``cpu_millicores`` and ``memory_mb`` (MiB) are the limits of the instance's containers
    together; ``storage_gb`` (GiB) is the total of its volumes. Plans are never deleted while
    something uses them (on_delete=PROTECT from subscriptions): deactivate them instead.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: a service is deleted only once it has no plans left (and so no subscriptions).
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="plans")
    slug = models.CharField(max_length=50, validators=[slug_validator])
    name = models.CharField(max_length=100)
    price_monthly = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))], help_text="IDR per month."
    )
    cpu_millicores = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CPU_MILLICORES)]
    )
    memory_mb = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_MEMORY_MB)])
    storage_gb = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_STORAGE_GB)])
    is_active = models.BooleanField(default=True, db_index=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["price_monthly", "slug", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="catalog_plan_slug_unique_per_service"),
            models.CheckConstraint(condition=models.Q(price_monthly__gt=0), name="catalog_plan_price_positive"),
            models.CheckConstraint(condition=models.Q(cpu_millicores__gt=0), name="catalog_plan_cpu_positive"),
            models.CheckConstraint(condition=models.Q(memory_mb__gt=0), name="catalog_plan_memory_positive"),
            models.CheckConstraint(condition=models.Q(storage_gb__gt=0), name="catalog_plan_storage_positive"),
            models.CheckConstraint(condition=models.Q(slug__regex=SLUG_PATTERN), name="catalog_plan_slug_format"),
        ]

    def __str__(self) -> str:
        return f"{self.service.name} {self.name}" if self.service_id else self.name

    def clean(self) -> None:
        # The blueprint knows the smallest size its app (and database) can run on.
        if not self.service_id:
            return
        try:
            minimums = get_blueprint(self.service.template).minimums
        except UnknownTemplate:
            return  # reported on the service itself
        errors = {}
        checks = (
            ("cpu_millicores", self.cpu_millicores, minimums.cpu_millicores),
            ("memory_mb", self.memory_mb, minimums.memory_mb),
            ("storage_gb", self.storage_gb, minimums.storage_gb),
        )
        for field, value, minimum in checks:
            if value is not None and value < minimum:
                errors[field] = [f"{self.service.name} needs at least {minimum}."]
        if errors:
            raise ValidationError(errors)
