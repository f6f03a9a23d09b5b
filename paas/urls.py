from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from paas import docs, health, views

handler404 = "paas.views.not_found"
handler500 = "paas.views.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    path("api/v1/", include("paas.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs.SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", docs.RedocView.as_view(url_name="schema"), name="redoc"),
    # Any other /api/ path is the JSON 404 of the envelope, DEBUG or not (never Django's HTML page).
    re_path(r"^api/", views.not_found),
    path("admin/", admin.site.urls),
]
