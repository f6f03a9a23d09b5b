from django_filters import rest_framework


class DjangoFilterBackend(rest_framework.DjangoFilterBackend):
    """django-filter's backend, which does nothing when the query string names no filter: building
    and validating the filter form for a plain listing costs more than the listing's query."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        # A filter's form fields are its name, or its name plus a suffix (``created_after``, ``_min``).
        if not any(param == name or param.startswith(f"{name}_") for param in request.query_params for name in names):
            return queryset
        return super().filter_queryset(request, queryset, view)
