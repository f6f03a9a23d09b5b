import django_filters

from .models import Subscription


class SubscriptionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Subscription.Status.choices)
    service = django_filters.CharFilter(field_name="service__slug")

    class Meta:
        model = Subscription
        fields = ["status", "service"]
