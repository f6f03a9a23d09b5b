import django_filters

from paas.filters import FilterSet

from .emails import EMAIL_TEMPLATES
from .models import EmailMessage, WebhookDelivery


class EmailMessageFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=EmailMessage.Status.choices)
    template = django_filters.ChoiceFilter(choices=[(name, name) for name in EMAIL_TEMPLATES])

    class Meta:
        model = EmailMessage
        fields = ["status", "template"]


class WebhookDeliveryFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.CharFilter()

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event"]
