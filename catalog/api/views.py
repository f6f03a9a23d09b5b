from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from catalog import selectors, services
from catalog.filters import ServiceFilterSet
from catalog.models import Plan
from paas.api.permissions import IsAdministrator
from paas.audit import audited, audited_create
from templates.config import config_validate

from .serializers import (
    AdminPlanSerializer,
    AdminServiceSerializer,
    ConfigResultSerializer,
    ConfigValidateInputSerializer,
    PlanInputSerializer,
    ServiceInputSerializer,
    ServiceSerializer,
)


@extend_schema(tags=["catalog"])
class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The public catalog: active services with their active plans. No authentication: a stale
    token sent by a logged-out browser must not turn the catalog into a 401."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = ServiceSerializer
    filter_backends: list = []
    lookup_value_regex = "[^/]+"
    lookup_url_kwarg = "id_or_slug"

    def get_queryset(self):
        return selectors.service_list_public()

    def get_object(self):
        return selectors.service_get_public(id_or_slug=self.kwargs["id_or_slug"])

    @extend_schema(request=ConfigValidateInputSerializer, responses={200: ConfigResultSerializer})
    @action(detail=True, methods=["post"], url_path="validate-config")
    def validate_config(self, request, id_or_slug=None):
        """Check a config for this service: 200 with defaults filled in, or 400 with field errors
        keyed ``config.<setting>``."""
        service = self.get_object()
        data = ConfigValidateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        config = config_validate(
            template_key=service.template, config=data.validated_data["config"], field_prefix="config."
        )
        return Response({"config": config})


@extend_schema(tags=["admin: catalog"])
class AdminServiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Operators' catalog: every service with all its plans. DELETE is refused (409) while the
    service has plans; deactivate it instead."""

    permission_classes = [IsAdministrator]
    serializer_class = AdminServiceSerializer
    filterset_class = ServiceFilterSet
    ordering_fields = ["name", "slug", "created_at"]

    def get_queryset(self):
        return selectors.service_list_admin()

    def get_object(self):
        return selectors.service_get_admin(service_id=self.kwargs["pk"])

    @extend_schema(request=ServiceInputSerializer, responses={201: AdminServiceSerializer})
    def create(self, request):
        data = ServiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = audited_create(request.user, "service.create", lambda: services.service_create(**data.validated_data))
        return Response(self.get_serializer(service).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ServiceInputSerializer, responses={200: AdminServiceSerializer})
    def partial_update(self, request, pk=None):
        data = ServiceInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        target = self.get_object()
        service = audited(
            request.user,
            "service.change",
            target,
            lambda: services.service_update(service=target, data=data.validated_data),
        )
        return Response(self.get_serializer(service).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        target = self.get_object()
        audited(request.user, "service.delete", target, lambda: services.service_delete(service=target))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["admin: catalog"],
    parameters=[OpenApiParameter("service_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
)
class AdminPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Plans of one service. DELETE is refused (409) while subscriptions use the plan."""

    permission_classes = [IsAdministrator]
    serializer_class = AdminPlanSerializer
    filter_backends: list = []
    queryset = Plan.objects.none()  # for the schema only; get_queryset scopes to the service

    def _service(self):
        return selectors.service_get_admin(service_id=self.kwargs["service_id"])

    def get_queryset(self):
        return selectors.plan_list_admin(service=self._service())

    def get_object(self):
        return selectors.plan_get_admin(service=self._service(), plan_id=self.kwargs["pk"])

    @extend_schema(request=PlanInputSerializer, responses={201: AdminPlanSerializer})
    def create(self, request, service_id=None):
        service = self._service()
        data = PlanInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = audited_create(
            request.user, "plan.create", lambda: services.plan_create(service=service, **data.validated_data)
        )
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanInputSerializer, responses={200: AdminPlanSerializer})
    def partial_update(self, request, service_id=None, pk=None):
        plan = self.get_object()
        data = PlanInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        plan = audited(
            request.user, "plan.change", plan, lambda: services.plan_update(plan=plan, data=data.validated_data)
        )
        return Response(self.get_serializer(plan).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, service_id=None, pk=None):
        target = self.get_object()
        audited(request.user, "plan.delete", target, lambda: services.plan_delete(plan=target))
        return Response(status=status.HTTP_204_NO_CONTENT)
