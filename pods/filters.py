import django_filters

from paas.filters import FilterSet

from .models import ServiceInstance


class AdminInstanceFilterSet(FilterSet):
    """Operators' instance list: ``?status=``, ``?namespace=``, ``?user=`` (owner id), ``?node=``."""

    status = django_filters.ChoiceFilter(choices=ServiceInstance.Status.choices)
    desired_state = django_filters.ChoiceFilter(choices=ServiceInstance.DesiredState.choices)
    namespace = django_filters.CharFilter()
    user = django_filters.UUIDFilter(field_name="owner_id")
    node = django_filters.CharFilter()
    service = django_filters.CharFilter(field_name="service__slug")

    class Meta:
        model = ServiceInstance
        fields = ["status", "desired_state", "namespace", "user", "node", "service"]
