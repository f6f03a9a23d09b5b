from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Func, IntegerField, QuerySet, Subquery
from django.db.models.query import ModelIterable
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

_TOTAL = "_page_total"


class _CountAll(Func):
    """``COUNT(*)`` that the ORM does not treat as an aggregate: no GROUP BY is added around it."""

    template = "COUNT(*)"
    output_field = IntegerField()


def _countable_inline(queryset) -> bool:
    """Whether the count can ride along in the page's own query: a plain filtered model query
    (no DISTINCT, GROUP BY, UNION or slice, whose rows the count would not match)."""
    if not isinstance(queryset, QuerySet) or queryset._iterable_class is not ModelIterable:
        return False
    query = queryset.query
    return not (
        query.combinator
        or query.distinct
        or query.is_sliced
        or query.group_by is not None
        or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
    )


class InlineCountPaginator(Paginator):
    """Reads a page and the total count in one query.

    The count is an uncorrelated subquery over the same filters in the page's SELECT, which
    PostgreSQL runs once (an InitPlan): the same work as a separate ``COUNT(*)``, one round trip
    less, and both read from the same snapshot. An empty page tells its own count: zero on page 1,
    out of range (404) past it.
    """

    def page(self, number):
        number = self._validated_number(number)
        bottom = (number - 1) * self.per_page
        total = Subquery(self.object_list.order_by().values(n=_CountAll()))
        rows = list(self.object_list.annotate(**{_TOTAL: total})[bottom : bottom + self.per_page])
        if rows:
            self.count = getattr(rows[0], _TOTAL)
        elif number == 1 and self.allow_empty_first_page:
            self.count = 0
        else:
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(rows, number, self)

    def _validated_number(self, number) -> int:
        # Django's validate_number, without the upper bound that would need the count first.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``: 20 by default, at most 100; any other page size, or a page that is
    not a number from 1, is a 400.

    ``count`` is always exact. For plain filtered lists it comes with the page in one query
    (``InlineCountPaginator``); other lists (unions, DISTINCT) count separately.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = InlineCountPaginator if _countable_inline(queryset) else Paginator
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return size

    def get_page_number(self, request, paginator):
        # Not a page number at all is the client's mistake (400); a page past the last is a 404.
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        number = _whole_number(raw)
        if number is None or number < 1:
            raise ValidationError({self.page_query_param: ["A whole number from 1."]})
        if (number - 1) * paginator.per_page > _MAX_OFFSET:
            raise NotFound(self.invalid_page_message)  # past any list, and past what OFFSET takes
        return number

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number, from 1 (the default); a page past the last one is a 404.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, 1 to {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size},
            },
        ]


_MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint


def _whole_number(raw: str) -> int | None:
    """``raw`` as a non-negative int, or ``None``; beyond 18 digits, a number past any real page."""
    if not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0") or "0"
    # int() refuses thousands of digits (ValueError); no list has 10**18 rows or pages anyway.
    return int(digits) if len(digits) <= 18 else 10**18
