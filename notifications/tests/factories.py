import uuid

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from notifications.services import WEBHOOK_RETRY_DELAYS, WEBHOOK_SEAL_PURPOSE
from paas import crypto

ENDPOINT_SECRET = "whsec_factory-secret-for-tests"


class EmailMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailMessage

    user = factory.SubFactory(UserFactory)
    to = factory.SelfAttribute("user.email")
    template = "welcome"
    subject = "Welcome to PaaS"
    context = factory.LazyAttribute(lambda o: {"name": o.user.name})
    status = EmailMessage.Status.SENT
    attempts = 1
    sent_at = factory.LazyFunction(timezone.now)


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint whose secret is ``ENDPOINT_SECRET``."""

    class Meta:
        model = WebhookEndpoint

    user = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/paas")
    events = factory.LazyFunction(lambda: ["payment.succeeded", "instance.ready"])
    secret_sealed = factory.LazyFunction(lambda: crypto.seal(ENDPOINT_SECRET, purpose=WEBHOOK_SEAL_PURPOSE))


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = "payment.succeeded"
    event_id = factory.LazyFunction(uuid.uuid4)
    body = factory.LazyAttribute(lambda o: f'{{"id":"{o.event_id}","event":"{o.event}","data":{{}}}}')
    status = WebhookDelivery.Status.SUCCEEDED
    attempts = 1
    max_attempts = len(WEBHOOK_RETRY_DELAYS) + 1
    response_status = 200
    latency_ms = 12
    delivered_at = factory.LazyFunction(timezone.now)
