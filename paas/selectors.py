from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet

from paas.exceptions import NotFound

M = TypeVar("M", bound=Model)


def get_or_not_found(queryset: QuerySet[M], *, message: str | None = None, **lookup) -> M:
    """The one row matching ``lookup`` in an already scoped ``queryset``, or ``NotFound`` (404).

    A malformed id (not a UUID, wrong type) is a 404 like a missing row: callers never learn
    more than "not here", which is also what another tenant's object must look like.
    """
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(message) from None
