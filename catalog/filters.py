import django_filters
from django.db.models import Q

from paas.filters import FilterSet

from .models import Service


class ServiceFilterSet(FilterSet):
    """Operators' service list: ``?is_active=``, ``?category=``, ``?template=``, ``?search=``."""

    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Service
        fields = ["is_active", "category", "template"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))
