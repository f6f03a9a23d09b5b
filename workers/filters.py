import django_filters

from .models import WorkerNode


class WorkerFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WorkerNode.Status.choices)
    cordoned = django_filters.BooleanFilter()
    source = django_filters.ChoiceFilter(choices=WorkerNode.Source.choices)

    class Meta:
        model = WorkerNode
        fields = ["status", "cordoned", "source"]
