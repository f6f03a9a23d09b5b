from rest_framework.routers import SimpleRouter

from .views import EmailMessageViewSet, WebhookEndpointViewSet

app_name = "notifications-api"

router = SimpleRouter(trailing_slash=False)
router.register("notifications", EmailMessageViewSet, basename="notification")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [*router.urls]
