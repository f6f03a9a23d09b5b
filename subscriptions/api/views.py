from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.selectors import id_or_slug_lookup
from paas.api.idempotency import idempotent
from paas.api.throttling import UserActionThrottle
from pods.api.serializers import InstanceSerializer, LogsSerializer
from pods.api.views import LOGS_PARAMETERS, logs_response
from subscriptions import selectors, services
from subscriptions.filters import SubscriptionFilterSet
from subscriptions.models import Subscription

from .serializers import (
    CancelInputSerializer,
    ChangePlanInputSerializer,
    HistoryEntrySerializer,
    SubscriptionCreateInputSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateInputSerializer,
)

LIST_COLUMNS = (
    *("id", "name", "status", "auto_renew", "cancel_at_period_end", "period_price", "created_at"),
    *("current_period_start", "current_period_end", "grace_until", "service", "plan", "instance"),
    *("service__id", "service__slug", "service__name"),
    *("plan__id", "plan__slug", "plan__name", "plan__price_monthly"),
    *("instance__id", "instance__status", "instance__desired_state", "instance__host", "instance__namespace"),
    *("instance__status_message", "instance__updated_at", "instance__unreachable_since", "instance__last_synced_at"),
    *("instance__usage_cpu_millicores", "instance__usage_memory_mb", "instance__usage_sampled_at"),
)


@extend_schema(tags=["subscriptions"])
class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your subscriptions and their apps. Another customer's subscription is a 404."""

    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet
    ordering_fields = ["created_at", "current_period_end"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    throttle_classes = [UserActionThrottle]
    user_throttle_scopes = {
        "create": "purchase",
        "renew": "subscription_change",
        "change_plan": "subscription_change",
        "cancel": "subscription_change",
        "instance_restart": "instance_action",
        "instance_stop": "instance_action",
        "instance_start": "instance_action",
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Subscription.objects.none()
        # The list reads only what its answer shows (an instance row is mostly the reconcile
        # loop's bookkeeping); paas/tests/test_query_budgets.py fails if a shown field is missing.
        return selectors.subscription_list(user=self.request.user).only(*LIST_COLUMNS)

    def get_object(self):
        return selectors.subscription_get_for_user(user=self.request.user, subscription_id=self.kwargs["pk"])

    def _answer(self, subscription, code=status.HTTP_200_OK) -> Response:
        fresh = selectors.subscription_get_for_user(user=self.request.user, subscription_id=subscription.pk)
        return Response(SubscriptionSerializer(fresh).data, status=code)

    @extend_schema(request=SubscriptionCreateInputSerializer, responses={201: SubscriptionSerializer})
    @idempotent
    def create(self, request):
        """Buy a plan: the first period is charged from the balance (402 when short, and nothing is created)."""
        data = SubscriptionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_purchase(user=request.user, **data.validated_data)
        return self._answer(subscription, status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionUpdateInputSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        data = SubscriptionUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            subscription=subscription, data=data.validated_data, actor=request.user
        )
        return self._answer(subscription)

    @extend_schema(request=CancelInputSerializer, responses=SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        """Cancel at the period's end, or ``immediate``: now, with the unused part credited."""
        subscription = self.get_object()
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_cancel(
            subscription=subscription, immediate=data.validated_data["immediate"], actor=request.user
        )
        return self._answer(subscription)

    @extend_schema(request=None, responses=SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def renew(self, request, pk=None):
        """Pay the next period now (402 when short). Resumes a suspended subscription."""
        subscription = services.subscription_renew(subscription=self.get_object(), actor=request.user)
        return self._answer(subscription)

    @extend_schema(request=ChangePlanInputSerializer, responses=SubscriptionSerializer)
    @action(detail=True, methods=["post"], url_path="change-plan")
    @idempotent
    def change_plan(self, request, pk=None):
        """Another plan of the same service, the difference charged or credited pro rata."""
        subscription = self.get_object()
        data = ChangePlanInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = subscription.service.plans.filter(**id_or_slug_lookup(data.validated_data["plan"])).first()
        if plan is None:
            raise ValidationError({"plan": ["No such plan for this service."]})
        subscription = services.subscription_change_plan(subscription=subscription, plan=plan, actor=request.user)
        return self._answer(subscription)

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def events(self, request, pk=None):
        """The subscription's and its app's history, newest first."""
        subscription = self.get_object()
        page = self.paginate_queryset(selectors.subscription_history(subscription=subscription))
        data = HistoryEntrySerializer(page, many=True, context={"owner_id": subscription.user_id}).data
        return self.get_paginated_response(data)

    def _instance_control(self, request, name: str) -> Response:
        instance = services.subscription_instance_control(
            subscription=self.get_object(), control=name, actor=request.user
        )
        return Response(InstanceSerializer(instance).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: InstanceSerializer})
    @action(detail=True, methods=["post"], url_path="instance/restart")
    def instance_restart(self, request, pk=None):
        return self._instance_control(request, "restart")

    @extend_schema(request=None, responses={202: InstanceSerializer})
    @action(detail=True, methods=["post"], url_path="instance/stop")
    def instance_stop(self, request, pk=None):
        return self._instance_control(request, "stop")

    @extend_schema(request=None, responses={202: InstanceSerializer})
    @action(detail=True, methods=["post"], url_path="instance/start")
    def instance_start(self, request, pk=None):
        return self._instance_control(request, "start")

    @extend_schema(parameters=LOGS_PARAMETERS, responses=LogsSerializer)
    @action(detail=True, methods=["get"], url_path="instance/logs")
    def instance_logs(self, request, pk=None):
        return logs_response(request, self.get_object().instance)
