import django_filters

from paas.filters import FilterSet, IsoDateTimeFilter

from .models import Transaction


class TransactionFilterSet(FilterSet):
    type = django_filters.ChoiceFilter(choices=Transaction.Type.choices)
    status = django_filters.ChoiceFilter(choices=Transaction.Status.choices)
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Transaction
        fields = ["type", "status", "created_after", "created_before"]


class AdminTransactionFilterSet(TransactionFilterSet):
    user = django_filters.UUIDFilter(field_name="user_id")
    order_id = django_filters.CharFilter()
    subscription = django_filters.UUIDFilter(field_name="subscription_id")

    class Meta(TransactionFilterSet.Meta):
        fields = [*TransactionFilterSet.Meta.fields, "user", "order_id", "subscription"]
