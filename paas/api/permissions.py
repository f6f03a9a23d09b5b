from rest_framework.permissions import BasePermission


class IsAdministrator(BasePermission):
    """Only an active ADMINISTRATOR: every ``/api/v1/admin/`` endpoint uses it."""

    message = "Administrator role required."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_administrator)
