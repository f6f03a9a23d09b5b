from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, F, QuerySet, Value
from django.db.models.functions import Coalesce

from paas.exceptions import NotFound

from .models import User


def user_list() -> QuerySet[User]:
    """All users, for administrators (filters are applied by the view's ``UserFilterSet``),
    with their wallet ``balance`` (0.00 before the first movement)."""
    return User.objects.annotate(
        balance=Coalesce(
            F("wallet__balance"), Value(Decimal("0.00")), output_field=DecimalField(max_digits=14, decimal_places=2)
        )
    )


def user_get(*, user_id) -> User:
    try:
        return user_list().get(pk=user_id)
    except (User.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound() from None
