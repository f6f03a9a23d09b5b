from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from paas.api.permissions import IsAdministrator
from paas.audit import audited
from paas.queue import enqueue
from pods import selectors, services
from pods.filters import AdminInstanceFilterSet
from pods.tasks import instances_sweep_task

from .serializers import (
    AdminInstanceDetailSerializer,
    AdminInstanceSerializer,
    LogsQuerySerializer,
    LogsSerializer,
    ReconcileInputSerializer,
)

# The owner's and the operators' controls: the same services, whoever asks.
ACTIONS = {
    "restart": services.instance_restart,
    "stop": services.instance_stop,
    "start": services.instance_start,
    "restore": services.instance_restore,
    "delete": services.instance_delete,
}


def instance_action(name: str, *, instance, actor):
    """Run one control on ``instance`` for ``actor``; the work happens in the reconcile loop."""
    return ACTIONS[name](instance=instance, actor=actor)


def logs_response(request, instance) -> Response:
    query = LogsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    tail = query.validated_data["tail"]
    text = services.instance_logs(instance=instance, tail=tail)
    return Response(LogsSerializer({"tail": tail, "lines": text.splitlines()}).data)


# The query serializer itself, so the schema states its real bounds and default.
LOGS_PARAMETERS = [LogsQuerySerializer]


# What the list shows, and no more: an instance row is mostly the reconcile loop's bookkeeping
# (sealed secrets, config, leases), and the owner, service and plan rows are read for one column.
# paas/tests/test_query_budgets.py fails if a shown field is missing.
LIST_COLUMNS = (
    *("id", "name", "status", "desired_state", "host", "namespace", "status_message", "node"),
    *("generation", "observed_generation", "failures", "last_error", "last_synced_at", "unreachable_since"),
    *("first_ready_at", "deleted_at", "purge_after", "purged_at", "created_at", "updated_at"),
    *("usage_cpu_millicores", "usage_memory_mb", "usage_sampled_at"),
    *("owner", "owner__email", "service", "service__slug", "plan", "plan__slug"),
)


@extend_schema(tags=["admin: pods"])
class AdminInstanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every customer's instances. Controls answer 202: the reconcile loop does the work."""

    permission_classes = [IsAdministrator]
    serializer_class = AdminInstanceSerializer
    filterset_class = AdminInstanceFilterSet
    ordering_fields = ["created_at", "updated_at", "status"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.instance_list_admin().only(*LIST_COLUMNS)

    def get_object(self):
        return selectors.instance_get_admin(instance_id=self.kwargs["pk"])

    @extend_schema(responses=AdminInstanceDetailSerializer)
    def retrieve(self, request, pk=None):
        instance = self.get_object()
        context = {
            "live": services.instance_live_status(instance=instance),
            "events": selectors.instance_events(instance=instance).select_related("actor")[:10],
        }
        return Response(AdminInstanceDetailSerializer(instance, context=context).data)

    def _control(self, request, name: str) -> Response:
        target = self.get_object()
        instance = audited(
            request.user,
            f"instance.{name}",
            target,
            lambda: instance_action(name, instance=target, actor=request.user),
        )
        return Response(
            AdminInstanceSerializer(selectors.instance_get_admin(instance_id=instance.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=None, responses={202: AdminInstanceSerializer})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        return self._control(request, "restart")

    @extend_schema(request=None, responses={202: AdminInstanceSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._control(request, "stop")

    @extend_schema(request=None, responses={202: AdminInstanceSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._control(request, "start")

    @extend_schema(request=None, responses={202: AdminInstanceSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Undo a delete within the retention window (409 after it)."""
        return self._control(request, "restore")

    @extend_schema(responses={202: AdminInstanceSerializer})
    def destroy(self, request, pk=None):
        """Delete the app's workloads now; its volumes and secrets are kept for the retention window."""
        return self._control(request, "delete")

    @extend_schema(parameters=LOGS_PARAMETERS, responses=LogsSerializer)
    @action(detail=True, methods=["get"])
    def logs(self, request, pk=None):
        return logs_response(request, self.get_object())

    @extend_schema(request=ReconcileInputSerializer, responses={202: None})
    @action(detail=False, methods=["post"])
    def reconcile(self, request):
        """Reconcile one instance now, or sweep them all."""
        data = ReconcileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        instance_id = data.validated_data.get("instance")
        if instance_id is None:
            enqueue(instances_sweep_task)
            return Response({"queued": "sweep"}, status=status.HTTP_202_ACCEPTED)
        instance = selectors.instance_get_admin(instance_id=instance_id)
        audited(
            request.user,
            "instance.reconcile_now",
            instance,
            lambda: services.instance_reconcile_soon(instance=instance, actor=request.user),
        )
        return Response({"queued": str(instance.pk)}, status=status.HTTP_202_ACCEPTED)
