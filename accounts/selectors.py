from decimal import Decimal

from django.db.models import DecimalField, F, QuerySet, Value
from django.db.models.functions import Coalesce

from paas.selectors import get_or_not_found

from .models import User


def user_list_admin() -> QuerySet[User]:
    """Every user, for administrators only (filters are applied by the view's ``UserFilterSet``),
    with their wallet ``balance`` (0.00 before the first movement)."""
    return User.objects.annotate(
        balance=Coalesce(
            F("wallet__balance"), Value(Decimal("0.00")), output_field=DecimalField(max_digits=14, decimal_places=2)
        )
    )


def user_get_admin(*, user_id) -> User:
    return get_or_not_found(user_list_admin(), pk=user_id)
