"""Every app's API routes, mounted at /api/v1/."""

from django.urls import include, path

urlpatterns = [
    # Routes are tried in order: node agents' heartbeats, the most frequent requests, come first.
    # No two apps' routes overlap, so the order changes nothing else.
    path("", include("workers.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("pods.api.urls")),
    path("", include("subscriptions.api.urls")),
]
