from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from paas.exceptions import NotFound

from .models import User


def user_list() -> QuerySet[User]:
    """All users, for administrators (filters are applied by the view's ``UserFilterSet``)."""
    return User.objects.all()


def user_get(*, user_id) -> User:
    try:
        return User.objects.get(pk=user_id)
    except (User.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound() from None
