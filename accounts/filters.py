import django_filters
from django.db.models import Q

from paas.filters import BooleanFilter, FilterSet

from .models import User


class UserFilterSet(FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Email or name contains")
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    is_active = BooleanFilter()

    class Meta:
        model = User
        fields = ["search", "role", "is_active"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(email__icontains=value) | Q(name__icontains=value))
