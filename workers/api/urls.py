from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "workers-api"

router = SimpleRouter(trailing_slash=False)
router.register("admin/workers", views.AdminWorkerViewSet, basename="admin-workers")

urlpatterns = [
    path("workers/register", views.RegisterView.as_view(), name="register"),
    path("workers/heartbeat", views.HeartbeatView.as_view(), name="heartbeat"),
    *router.urls,
]
