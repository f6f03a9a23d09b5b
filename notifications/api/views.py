from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import selectors, services
from notifications.filters import EmailMessageFilterSet
from notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from paas.api.throttling import UserActionThrottle

from .serializers import (
    EmailMessageSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateInputSerializer,
)


@extend_schema_view(list=extend_schema(tags=["notifications"], summary="The emails sent to you"))
class EmailMessageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = EmailMessageSerializer
    filterset_class = EmailMessageFilterSet
    ordering_fields = ["created_at", "sent_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return EmailMessage.objects.none()
        return selectors.email_message_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(tags=["webhooks"]),
    retrieve=extend_schema(tags=["webhooks"]),
    destroy=extend_schema(tags=["webhooks"]),
)
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    """Your webhook endpoints. Another user's endpoint is a 404."""

    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    throttle_classes = [UserActionThrottle]
    user_throttle_scopes = {"test": "webhook_test"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return WebhookEndpoint.objects.none()
        return selectors.webhook_endpoint_list(user=self.request.user)

    def get_object(self):
        return selectors.webhook_endpoint_get_for_user(user=self.request.user, endpoint_id=self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        tags=["webhooks"],
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    )
    def create(self, request):
        data = WebhookEndpointCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(user=request.user, **data.validated_data)
        endpoint.secret = secret
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointSerializer(self.get_object()).data)

    @extend_schema(tags=["webhooks"], request=WebhookEndpointUpdateInputSerializer, responses=WebhookEndpointSerializer)
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = WebhookEndpointUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, data=data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        services.webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["webhooks"],
        responses=WebhookDeliverySerializer(many=True),
        parameters=[
            OpenApiParameter("status", enum=WebhookDelivery.Status.values),
            OpenApiParameter("event", description="e.g. payment.succeeded or ping"),
        ],
    )
    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries, newest first."""
        endpoint = self.get_object()
        deliveries = selectors.webhook_delivery_list(endpoint=endpoint, filters=request.query_params)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(tags=["webhooks"], request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], serializer_class=WebhookDeliverySerializer)
    def test(self, request, pk=None):
        """Send a ``ping`` event now (once, no retries); follow it in the deliveries."""
        delivery = services.webhook_endpoint_ping(endpoint=self.get_object())
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
