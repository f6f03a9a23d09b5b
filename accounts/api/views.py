from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import selectors, services
from accounts.filters import UserFilterSet
from paas.api.permissions import IsAdministrator
from paas.api.throttling import ScopedEmailThrottle, ScopedIPThrottle
from paas.audit import audited, audited_create

from .serializers import (
    AdminUserCreateInputSerializer,
    AdminUserSerializer,
    AdminUserUpdateInputSerializer,
    AuthResultSerializer,
    ChangePasswordInputSerializer,
    LoginInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    ProfileUpdateInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenPairSerializer,
    UserSerializer,
)


class PublicAPIView(APIView):
    """Entry points for anonymous callers: no auth, throttled per address (and per email)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedIPThrottle]

    def get_authenticate_header(self, request):
        # Without authenticators DRF would turn a token error into a 403; it is a 401.
        return 'Bearer realm="api"'


def _auth_result(user, tokens) -> dict:
    return {"user": UserSerializer(user).data, **tokens}


class RegisterView(PublicAPIView):
    throttle_scope = "register"

    @extend_schema(request=RegisterInputSerializer, responses={201: AuthResultSerializer}, tags=["auth"])
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        return Response(_auth_result(user, services.tokens_issue(user=user)), status=status.HTTP_201_CREATED)


class LoginView(PublicAPIView):
    throttle_scope = "login"
    throttle_classes = [ScopedIPThrottle, ScopedEmailThrottle]

    @extend_schema(request=LoginInputSerializer, responses={200: AuthResultSerializer}, tags=["auth"])
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(request=request, **data.validated_data)
        return Response(_auth_result(user, services.tokens_issue(user=user)))


class RefreshView(PublicAPIView):
    """Trade a refresh token for a new pair; the old refresh token is blacklisted."""

    throttle_scope = "refresh"

    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairSerializer}, tags=["auth"])
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            tokens = services.tokens_refresh(refresh=data.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(tokens)


class LogoutView(PublicAPIView):
    """Revoke a refresh token. Holding the token is proof enough, so no access token is needed."""

    @extend_schema(request=RefreshInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.token_revoke(refresh=data.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer, tags=["auth"])
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=ProfileUpdateInputSerializer, responses=UserSerializer, tags=["auth"])
    def patch(self, request):
        data = ProfileUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(UserSerializer(user).data)


class ChangePasswordView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ChangePasswordInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = ChangePasswordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAPIView):
    throttle_scope = "password_reset"
    throttle_classes = [ScopedIPThrottle, ScopedEmailThrottle]

    @extend_schema(
        request=PasswordResetInputSerializer,
        responses={
            202: OpenApiResponse(
                inline_serializer("PasswordResetAccepted", {"detail": serializers.CharField()}),
                description="Accepted, whether or not the account exists.",
            )
        },
        tags=["auth"],
    )
    def post(self, request):
        data = PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(**data.validated_data)
        return Response({"detail": "If the account exists, a reset email is on its way."}, status=202)


class PasswordResetConfirmView(PublicAPIView):
    throttle_scope = "password_reset_confirm"

    @extend_schema(request=PasswordResetConfirmInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = PasswordResetConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["admin: users"])
class AdminUserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Operators' user management. DELETE deactivates: accounts with a history are kept."""

    permission_classes = [IsAdministrator]
    serializer_class = AdminUserSerializer
    filterset_class = UserFilterSet
    ordering_fields = ["created_at", "email", "name", "last_login"]

    def get_queryset(self):
        return selectors.user_list_admin()

    def get_object(self):
        return selectors.user_get_admin(user_id=self.kwargs["pk"])

    def _fresh(self, user):
        return selectors.user_get_admin(user_id=user.pk)

    @extend_schema(request=AdminUserCreateInputSerializer, responses={201: AdminUserSerializer})
    def create(self, request):
        data = AdminUserCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = audited_create(request.user, "user.create", lambda: services.user_create(**data.validated_data))
        # Re-read through the selector so the response carries the annotated balance.
        return Response(self.get_serializer(self._fresh(user)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdminUserUpdateInputSerializer, responses=AdminUserSerializer)
    def partial_update(self, request, pk=None):
        data = AdminUserUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = self.get_object()
        user = audited(
            request.user,
            "user.change",
            target,
            lambda: services.user_update_by_admin(actor=request.user, user=target, data=data.validated_data),
        )
        return Response(self.get_serializer(self._fresh(user)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        target = self.get_object()
        audited(
            request.user, "user.deactivate", target, lambda: services.user_deactivate(actor=request.user, user=target)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
