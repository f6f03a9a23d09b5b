from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get_admin
from billing import selectors, services
from billing.filters import AdminTransactionFilterSet, TransactionFilterSet
from billing.models import Invoice, Transaction
from billing.pdf import invoice_render_pdf
from paas.api.idempotency import idempotent
from paas.api.permissions import IsAdministrator
from paas.api.throttling import UserActionThrottle
from paas.audit import audited_create

from .serializers import (
    AdjustmentInputSerializer,
    AdminTransactionSerializer,
    BalanceSerializer,
    InvoiceSerializer,
    RefundInputSerializer,
    SummarySerializer,
    TopupCreateInputSerializer,
    TopupSerializer,
    TransactionSerializer,
    notification_body,
)


class FirstRendererNegotiation(BaseContentNegotiation):
    """Answer in our one format whatever ``Accept`` says (PDF downloads, gateway callbacks)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BalanceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=BalanceSerializer, tags=["billing"])
    def get(self, request):
        overview = selectors.balance_overview(user=request.user)
        return Response(BalanceSerializer(overview).data)


class TopupView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [UserActionThrottle]
    user_throttle_scopes = {"post": "topup"}

    @extend_schema(request=TopupCreateInputSerializer, responses={201: TopupSerializer}, tags=["billing"])
    @idempotent
    def post(self, request):
        data = TopupCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        topup = services.topup_create(user=request.user, amount=data.validated_data["amount"])
        return Response(TopupSerializer(topup).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["billing"])
class TransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilterSet
    ordering_fields = ["created_at", "amount"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Transaction.objects.none()
        return selectors.transaction_list(user=self.request.user)

    def get_object(self):
        return selectors.transaction_get_for_user(user=self.request.user, transaction_id=self.kwargs["pk"])


@extend_schema(tags=["billing"])
class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = InvoiceSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return selectors.invoice_list(user=self.request.user)

    def get_object(self):
        return selectors.invoice_get_for_user(user=self.request.user, invoice_id=self.kwargs["pk"])

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The invoice as a PDF.")})
    @action(detail=True, methods=["get"], content_negotiation_class=FirstRendererNegotiation)
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        response = HttpResponse(invoice_render_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response


class MidtransNotificationView(APIView):
    """Midtrans' HTTP notification: no auth (the signature and the status API vouch for it).

    DRF views are CSRF-exempt without session auth. ``notification_body`` parses the raw body so
    ``gross_amount`` reaches the signature check exactly as sent ("150000.00").
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        request=inline_serializer("MidtransNotification", {"order_id": serializers.CharField()}),
        responses={200: inline_serializer("NotificationAccepted", {"status": serializers.CharField()})},
        tags=["billing"],
        auth=[],
    )
    def post(self, request):
        payload = notification_body(request)
        note = services.notification_receive(payload=payload, remote_addr=request.META.get("REMOTE_ADDR"))
        return Response({"status": "ok", "outcome": note.outcome})


# --- administrators -----------------------------------------------------------------------------


@extend_schema(tags=["admin: billing"])
class AdminTransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAdministrator]
    serializer_class = AdminTransactionSerializer
    filterset_class = AdminTransactionFilterSet
    ordering_fields = ["created_at", "amount"]

    def get_queryset(self):
        return selectors.transaction_list_admin()

    def get_object(self):
        return selectors.transaction_get(transaction_id=self.kwargs["pk"])

    @extend_schema(request=RefundInputSerializer, responses={201: AdminTransactionSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, pk=None):
        data = RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = audited_create(
            request.user,
            "transaction.refund",
            lambda: services.transaction_refund_by_admin(
                actor=request.user, transaction=self.get_object(), reason=data.validated_data["reason"]
            ),
            reason=data.validated_data["reason"],
        )
        return Response(AdminTransactionSerializer(refund).data, status=status.HTTP_201_CREATED)


class AdminAdjustmentView(APIView):
    permission_classes = [IsAdministrator]

    @extend_schema(
        request=AdjustmentInputSerializer, responses={201: AdminTransactionSerializer}, tags=["admin: billing"]
    )
    @idempotent
    def post(self, request):
        data = AdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = user_get_admin(user_id=data.validated_data["user"])
        adjustment = audited_create(
            request.user,
            "wallet.adjust",
            lambda: services.wallet_adjust(
                actor=request.user,
                user=target,
                amount=data.validated_data["amount"],
                reason=data.validated_data["reason"],
            ),
            reason=data.validated_data["reason"],
        )
        return Response(AdminTransactionSerializer(adjustment).data, status=status.HTTP_201_CREATED)


class AdminSummaryView(APIView):
    permission_classes = [IsAdministrator]

    @extend_schema(responses=SummarySerializer, tags=["admin: billing"])
    def get(self, request):
        return Response(selectors.billing_summary())
