import django_filters

from paas.filters import BooleanFilter, FilterSet

from .models import WorkerNode


class WorkerFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=WorkerNode.Status.choices)
    cordoned = BooleanFilter()
    source = django_filters.ChoiceFilter(choices=WorkerNode.Source.choices)

    class Meta:
        model = WorkerNode
        fields = ["status", "cordoned", "source"]
