from dataclasses import asdict

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from paas.api.permissions import IsAdministrator
from paas.audit import audit_record, audited, snapshot
from workers import selectors, services
from workers.filters import WorkerFilterSet

from .serializers import (
    HeartbeatAnswerSerializer,
    HeartbeatInputSerializer,
    TokenSerializer,
    WorkerCreatedSerializer,
    WorkerCreateInputSerializer,
    WorkerRegisteredSerializer,
    WorkerRegisterInputSerializer,
    WorkerSerializer,
    WorkerUpdateInputSerializer,
)

TOKEN_HEADER = "X-Worker-Token"  # noqa: S105 (a header name, not a secret)
TOKEN_PARAMETER = OpenApiParameter(
    TOKEN_HEADER, str, OpenApiParameter.HEADER, required=True, description="The join token, or the node's own token."
)


class _AgentView(APIView):
    """Called by node agents with ``X-Worker-Token``: no user, no session, no throttles."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class RegisterView(_AgentView):
    @extend_schema(
        request=WorkerRegisterInputSerializer,
        responses={201: WorkerRegisteredSerializer, 200: WorkerRegisteredSerializer},
        parameters=[TOKEN_PARAMETER],
        tags=["workers"],
        auth=[],
    )
    def post(self, request):
        """Register a node with the cluster's join token (again: by the same name, 200)."""
        data = WorkerRegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node, token, created = services.node_register(
            join_token=request.headers.get(TOKEN_HEADER), **data.validated_data
        )
        body = {
            "id": node.pk,
            "name": node.name,
            "token": token,
            "heartbeat_interval": settings.WORKER_HEARTBEAT_INTERVAL,
        }
        return Response(
            WorkerRegisteredSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class HeartbeatView(_AgentView):
    @extend_schema(
        request=HeartbeatInputSerializer,
        responses=HeartbeatAnswerSerializer,
        parameters=[TOKEN_PARAMETER],
        tags=["workers"],
        auth=[],
    )
    def post(self, request):
        """A node's report, with its own token."""
        data = HeartbeatInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        usage = data.validated_data["usage"]
        interval = services.node_heartbeat(
            token=request.headers.get(TOKEN_HEADER),
            status=data.validated_data["status"],
            conditions=data.validated_data.get("conditions"),
            **usage,
        )
        return Response({"heartbeat_interval": interval})


@extend_schema(tags=["admin: workers"])
class AdminWorkerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Worker nodes, by id or by name."""

    permission_classes = [IsAdministrator]
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilterSet
    ordering_fields = ["name", "last_heartbeat_at", "status"]
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.worker_list_admin()

    def get_object(self):
        return selectors.worker_get_admin(ref=self.kwargs["pk"])

    @extend_schema(request=WorkerCreateInputSerializer, responses={201: WorkerCreatedSerializer})
    def create(self, request):
        """Add a node by hand; its token is in the answer, and only there."""
        data = WorkerCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node, token = services.node_create(**data.validated_data)
        audit_record(actor=request.user, action="node.create", target=node, after=snapshot(node))
        body = WorkerSerializer(selectors.worker_get_admin(ref=str(node.pk))).data | {"token": token}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkerUpdateInputSerializer, responses=WorkerSerializer)
    def partial_update(self, request, pk=None):
        node = self.get_object()
        data = WorkerUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        audited(request.user, "node.change", node, lambda: services.node_update(node=node, data=data.validated_data))
        return Response(WorkerSerializer(selectors.worker_get_admin(ref=str(node.pk))).data)

    def perform_destroy(self, instance):
        audited(self.request.user, "node.delete", instance, lambda: services.node_delete(node=instance))

    @extend_schema(request=None, responses=WorkerSerializer)
    @action(detail=True, methods=["post"])
    def cordon(self, request, pk=None):
        """No new placements on this node; its apps keep running."""
        target = self.get_object()
        node = audited(
            request.user, "node.cordon", target, lambda: services.node_set_cordoned(node=target, cordoned=True)
        )
        return Response(WorkerSerializer(selectors.worker_get_admin(ref=str(node.pk))).data)

    @extend_schema(request=None, responses=WorkerSerializer)
    @action(detail=True, methods=["post"])
    def uncordon(self, request, pk=None):
        target = self.get_object()
        node = audited(
            request.user, "node.uncordon", target, lambda: services.node_set_cordoned(node=target, cordoned=False)
        )
        return Response(WorkerSerializer(selectors.worker_get_admin(ref=str(node.pk))).data)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """A new token for the node; the old one stops working (its agent registers again)."""
        node = self.get_object()
        token = audited(request.user, "node.rotate_token", node, lambda: services.node_rotate_token(node=node))
        return Response({"token": token})

    @extend_schema(
        responses=inline_serializer(
            "Headroom",
            {
                "nodes": serializers.IntegerField(),
                "allocatable_cpu_millicores": serializers.IntegerField(),
                "allocatable_memory_mb": serializers.IntegerField(),
                "requested_cpu_millicores": serializers.IntegerField(),
                "requested_memory_mb": serializers.IntegerField(),
                "free_cpu_millicores": serializers.IntegerField(),
                "free_memory_mb": serializers.IntegerField(),
                "overcommit_ratio": serializers.FloatField(),
            },
        )
    )
    @action(detail=False, methods=["get"], filterset_class=None)
    def headroom(self, request):
        """What the placeable nodes can still take (after overcommit), as purchases are admitted."""
        room = services.headroom()
        body = {k: v for k, v in asdict(room).items() if not k.startswith("largest_")}
        body |= {
            "free_cpu_millicores": room.free_cpu_millicores,
            "free_memory_mb": room.free_memory_mb,
            "overcommit_ratio": settings.PAAS_OVERCOMMIT_RATIO,
        }
        return Response(body)
