import django_filters

from paas.filters import FilterSet

from .models import Subscription


class SubscriptionFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=Subscription.Status.choices)
    service = django_filters.CharFilter(field_name="service__slug")

    class Meta:
        model = Subscription
        fields = ["status", "service"]
