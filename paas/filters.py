"""Strict list filters: a query value the API cannot honour is a 400 naming the parameter, never a
silently unfiltered list (a client with a typo would act on the wrong rows) nor a 500.

- ``FilterSet``: django-filter's, with strict booleans and datetimes for model fields too, and
  no empty values but for free text;
- ``BooleanFilter``: ``true`` or ``false`` only (django-filter reads ``maybe`` as "no filter");
- ``IsoDateTimeFilter``: an ISO 8601 datetime with its timezone, whose UTC instant exists;
- ``OrderingFilter``: DRF's, but an unknown field is a 400 instead of being dropped, and the
  schema lists the accepted values.
"""

from datetime import UTC

import django_filters
from django import forms
from django.db import models
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters as drf_filters
from rest_framework.exceptions import ValidationError


class StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Must be true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UTCDateTimeField(forms.Field):
    default_error_messages = {
        "invalid": "Must be an ISO 8601 date and time with a timezone, e.g. 2026-01-31T00:00:00Z.",
        "out_of_range": "Must be between the years 1 and 9999 in UTC.",
    }

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:  # well-formed but impossible: month 13, year 10000, offset of 24 h
            parsed = None
        # Without an offset the instant is ambiguous: say so rather than guess a timezone.
        if parsed is None or parsed.tzinfo is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            # 0001-01-01T00:00:00+05:00 is a valid string for an instant before year 1 in UTC.
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


@extend_schema_field({"type": "string", "format": "date-time"})
class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class FilterSet(django_filters.FilterSet):
    """Model fields named in ``Meta.fields`` get the strict filters above too, and a parameter that
    is present but empty is refused unless it is free text: ``?status=`` names no status."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
    }

    def get_form_class(self):
        typed = [name for name, filter_ in self.filters.items() if not isinstance(filter_, django_filters.CharFilter)]

        base = super().get_form_class()

        class Form(base):
            def clean(self):
                cleaned = super().clean()
                for name in typed:
                    if self.data.get(name) == "":
                        self.add_error(name, forms.ValidationError("Must not be empty.", code="blank"))
                return cleaned

        return Form


class OrderingFilter(drf_filters.OrderingFilter):
    """``?ordering=a,-b`` over the view's ``ordering_fields``; anything else is a 400.

    A view that names no ``ordering_fields`` takes no ordering: the parameter is neither read nor
    documented (DRF would otherwise offer every serializer field, joins and all).
    """

    def _terms(self, view) -> list[str]:
        names = [item if isinstance(item, str) else item[0] for item in getattr(view, "ordering_fields", None) or []]
        return [term for name in names for term in (name, f"-{name}")]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        terms = self._terms(view)
        if raw is None or not terms:
            return self.get_default_ordering(view)
        fields = [part.strip() for part in raw.split(",")]
        unknown = [field for field in fields if field not in terms]
        if unknown:
            raise ValidationError(
                {self.ordering_param: [f"Unknown ordering {unknown[0][:64]!r}; use any of: {', '.join(terms)}."]}
            )
        return fields

    def get_schema_operation_parameters(self, view):
        terms = self._terms(view)
        if not terms:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by these fields, comma-separated; a leading `-` sorts descending.",
                "schema": {"type": "array", "items": {"type": "string", "enum": terms}, "minItems": 1},
                "style": "form",
                "explode": False,
            }
        ]
