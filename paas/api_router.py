"""Every app's API routes, mounted at /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("pods.api.urls")),
    path("", include("subscriptions.api.urls")),
    path("", include("workers.api.urls")),
]
