import copy
import operator
from collections.abc import Mapping

from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not declare: a typo in a PATCH must be a 400, not a silent no-op.
    Text is held to the schema as sent (``_raw_text_error``), before DRF's lenient reading."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        if unknown:
            raise serializers.ValidationError({str(name)[:64]: ["Unknown field."] for name in unknown})
        if isinstance(data, Mapping):
            refused = {name: _raw_text_error(field, data.get(name)) for name, field in self.fields.items()}
            if any(refused.values()):
                raise serializers.ValidationError({name: [error] for name, error in refused.items() if error})
        return super().to_internal_value(data)


def _raw_text_error(field, value) -> str | None:
    """What DRF lets through for a text or UUID field but the schema forbids: a JSON number (DRF
    turns it into text), or a string over ``max_length`` before DRF trims its whitespace."""
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(filter(None, (_raw_text_error(field.child, item) for item in value)), None)
    if not isinstance(field, serializers.CharField | serializers.UUIDField):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "Not a valid string."
    limit = getattr(field, "max_length", None)
    if isinstance(value, str) and limit is not None and len(value) > limit:
        return f"Ensure this field has no more than {limit} characters."
    return None


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``, nothing else: ``"yes"``, ``"1"`` and ``1`` are a 400, since
    a client sending them has a bug that a silent reading would hide."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class OutputModelSerializer(serializers.ModelSerializer):
    """A read-only ``ModelSerializer`` for answers, built for lists; its output is DRF's, byte for byte.

    - A ModelSerializer derives its fields from the model on every use (once per request, for a
      list). Their definitions depend on the class alone, so they are derived once per process;
      each use binds shallow copies of them (nested serializers are copied in full, as DRF does).
    - A datetime field asks for the current timezone on every value; it is read once per use.
    - Per row, DRF walks every field's source with generic lookups (mappings, callables, missing
      relations). Plain attribute sources are read here with a precompiled getter instead; anything
      else, or any surprise (a callable, a missing attribute), goes DRF's own way for that field.
    """

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = super().get_fields()
            cls._prototype_fields = prototype
        # Binding only sets attributes on the copy; the definitions it shares are never changed.
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in prototype.items()
        }

    @cached_property
    def _readable_fields(self):
        return [field for field in self.fields.values() if not field.write_only]

    @cached_property
    def _getters(self) -> list:
        plan = []
        for field in self._readable_fields:
            if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
                field.timezone = field.default_timezone()  # what DRF would look up for each value
            getter = None
            # Relations (primary-key-only reads) and model fields read their own way.
            if type(field).get_attribute is serializers.Field.get_attribute:
                getter = operator.attrgetter(".".join(field.source_attrs)) if field.source_attrs else _itself
            plan.append((field.field_name, getter, field))
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        ret = {}
        for name, getter, field in self._getters:
            attribute = _UNREAD
            if getter is not None:
                try:
                    attribute = getter(instance)
                except Exception:  # DRF's lookup below decides what a failure means (default, null, skip)
                    attribute = _UNREAD
                if callable(attribute):
                    attribute = _UNREAD
            if attribute is _UNREAD:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                if isinstance(attribute, PKOnlyObject):
                    ret[name] = None if attribute.pk is None else field.to_representation(attribute)
                    continue
            ret[name] = None if attribute is None else field.to_representation(attribute)
        return ret


_UNREAD = object()


def _itself(instance):
    return instance
